"""``python -m helpers.data PATH/twitter-data.csv``: rewrite the shipped reference table from the source file."""

import sys

from helpers.data import derive_reference, write_reference

if len(sys.argv) != 2:
    sys.exit("usage: python -m helpers.data PATH/twitter-data.csv")
print(write_reference(derive_reference(sys.argv[1])))
