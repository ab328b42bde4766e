#!/usr/bin/python3
"""The pandas baseline for `cairn data stats`: read_csv, describe() of the
numeric columns (count, mean, std, min, quartiles, max) and value_counts() of
each categorical (object) column, on the same file. Prints the seconds it took
and the MB/s. Usage: pandas_stats.py FILE  (Debian's python3-pandas)."""
import os
import sys
import time

import pandas as pd


def main():
    path = sys.argv[1]
    size_mb = os.path.getsize(path) / (1 << 20)
    t0 = time.monotonic()
    frame = pd.read_csv(path)
    t_read = time.monotonic() - t0
    described = frame.describe()
    counts = {name: frame[name].value_counts() for name in frame.select_dtypes("object").columns}
    seconds = time.monotonic() - t0
    # Touch the results so nothing is skipped, and show they are real.
    print(f"pandas {pd.__version__}: {len(frame)} rows, {described.shape[1]} numeric columns "
          f"described, {len(counts)} categorical columns counted "
          f"({sum(len(c) for c in counts.values())} distinct values)")
    print(f"pandas read_csv: {t_read:.2f} s; read_csv + describe + value_counts: {seconds:.2f} s "
          f"= {size_mb / seconds:.1f} MB/s")


if __name__ == "__main__":
    main()
