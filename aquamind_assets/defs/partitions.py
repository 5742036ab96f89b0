"""YEARS: the one yearly partitioning shared by every yearly asset (keys exactly 2015..2024)."""
import dagster as dg

from ..scenario import FIRST_YEAR, LAST_YEAR

YEARS = dg.TimeWindowPartitionsDefinition(start=str(FIRST_YEAR), end=str(LAST_YEAR + 1),
                                          cron_schedule="0 0 1 1 *", fmt="%Y", timezone="UTC")
