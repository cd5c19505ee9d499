"""A simulated takedown in the archive's exact format, with a known truth.

``model`` draws accounts, tweets and engagement from the scenario's generative
model; ``archive_format`` writes them as Twitter's CSV files.
"""

from helpers.simulate.model import (GENERATOR_VERSION, SIZES, Scenario, cli_simulate, draw_accounts, draw_block,
                                    engagement_base, ensure_default, ordinary_accounts, scenario_from_args,
                                    write_campaign)

__all__ = ["GENERATOR_VERSION", "SIZES", "Scenario", "cli_simulate", "draw_accounts", "draw_block",
           "engagement_base", "ensure_default", "ordinary_accounts", "scenario_from_args", "write_campaign"]
