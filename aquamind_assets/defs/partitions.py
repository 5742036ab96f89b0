"""YEARS: the one yearly partitioning shared by every yearly asset (keys exactly the stored years, config/years.py)."""
import dagster as dg

from ..config.years import FIRST_YEAR, LAST_YEAR

YEARS = dg.TimeWindowPartitionsDefinition(start=str(FIRST_YEAR), end=str(LAST_YEAR + 1),
                                          cron_schedule="0 0 1 1 *", fmt="%Y", timezone="UTC")
