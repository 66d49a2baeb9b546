"""``python -m stations.mapped build DIR``: see :mod:`stations.mapped.build`."""

import sys

from stations.mapped.build import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
