"""Expected learning-rate schedules: from a config (mmengine, mmcv, HF) or from the logs."""
