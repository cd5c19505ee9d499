"""Statistics over the tidy frames of ``helpers.frames``; no module here opens a file or a database.

``analysis.analyse`` runs them all. ``resampling`` is the account-bootstrap kit
every interval uses; ``descriptives`` (followers, engagement, concentration,
rank association), ``dose_response`` (follower bands), ``amplification``,
``lifespan`` and ``content`` compute result entries; ``models`` fits the count
models with the checked optimisers of ``fitting``.
"""
