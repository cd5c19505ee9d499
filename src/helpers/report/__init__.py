"""The report: figures from the statistics, verdicts on the claims, HTML pieces and the browser check.

``figures`` draws PNGs from the analysis; ``claims`` turns results.json into a
verdict per claim; ``narrative`` writes the report's HTML pieces; ``browser``
checks rendered pages in headless Chromium.
"""
