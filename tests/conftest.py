import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The multi-device cases run only in their own processes (test_multi_device.py).
if not os.environ.get("KERASBIG_CASES"):
    collect_ignore_glob = ["distribution/cases_*.py"]
