"""The sensor faults (ground truth) and the detectors' flags: a labelled anomaly-detection benchmark,
written by the readings asset in the readings' transaction, so each is replaced with its year."""
from __future__ import annotations

from .schema import C, yearly

__all__ = ["SENSOR_FAULT", "SENSOR_FAULT_FLAG"]

SENSOR_FAULT = yearly("environmental", "sensor_fault",
    C("id", "int4"), C("sensor_id", "int4"), C("container_id", "int4"), C("parameter_id", "int4"),
    C("kind", "text"), C("start_time", "timestamptz"), C("end_time", "timestamptz"),
    C("magnitude", "float4", True), time_column="start_time",
    description="What went wrong with a sensor from start_time until end_time (exclusive): gap (no readings "
                "sent), spike (one reading off), stuck (one value repeated), drift (an offset growing to the "
                "magnitude at the end), calibration (an offset held until a recalibration). magnitude: the "
                "offset in the parameter's unit (spike: as applied; drift: at the end; calibration: held), the "
                "repeated value for stuck, NULL for gap; for the nitrogen compounds (no2, no3, nh4) drift and "
                "calibration scale the value and magnitude is the natural log of the factor.")
SENSOR_FAULT_FLAG = yearly("environmental", "sensor_fault_flag",
    C("sensor_id", "int4"), C("container_id", "int4"), C("parameter_id", "int4"), C("kind", "text"),
    C("flag_date", "date"), C("score", "float4"), time_column="flag_date",
    description="A sensor-day a detector flags as a fault of a kind (gap, spike, stuck), decided on the daily "
                "rollup as the readings stream (export/detectors.py); score: for a spike, how far the day's extreme "
                "lies from its neighbouring days (in scales of the parameter); for stuck, the readings repeating "
                "one value; for gap, the readings (or days) missing.")
