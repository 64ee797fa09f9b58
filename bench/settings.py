"""Benchmark-only settings: the production settings, plus the yardstick views.

Everything the real endpoints run is unchanged (middleware, REST framework
settings, persistent connections, DEBUG off). Only three things differ:
the URLconf adds the benchmark's own views (bench.urls), the throttle rate is
high enough that no answer is a 429, and a throwaway SECRET_KEY is used when
none is set. The benchmark never runs with DEBUG on (query logging would
dominate every figure).
"""

import os
import warnings

# WhiteNoise warns that collectstatic has not run; the benchmark serves no static file.
warnings.filterwarnings("ignore", message="No directory at")
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-never-deployed-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# A platform sending thousands of verifications a second has a budget to
# match; the throttle still runs on every request (and on the hello view).
os.environ.setdefault("API_THROTTLE_RATE", "50000/s")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from config.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
