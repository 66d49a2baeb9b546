"""The compiled modules of the nearest-station hot path: the certified k-NN
(geodata/_chordtree.pyx), and on the stations side its answer rows
(stations/nearest/_rows.pyx, which cimports the tree's C-level search) and the splice of
the answer's JSON (stations/nearest/_splice.pyx); and the text search over a mapped
catalog snapshot (stations/mapped/_text.pyx), the making of a station decoded from one
(stations/mapped/_decode.pyx) and of a nearest answer's feature from one
(stations/mapped/_render.pyx); and the trust board's records
taken out of the cycle collector's view (stations/trust/_untrack.pyx).

Everything else about the package is declared in pyproject.toml; this file exists only
because the tree needs numpy's C headers, whose location is known at build time, and the
rows module needs the tree's declarations (geodata/_chordtree.pxd) on the include path.
"""

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "geodata._chordtree",
                ["geodata/_chordtree.pyx"],
                include_dirs=[numpy.get_include()],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=["-O3"],
            ),
            Extension(
                "stations.nearest._rows",
                ["stations/nearest/_rows.pyx"],
                extra_compile_args=["-O3"],
            ),
            Extension(
                "stations.nearest._splice",
                ["stations/nearest/_splice.pyx"],
                extra_compile_args=["-O3"],
            ),
            Extension(
                "stations.mapped._text",
                ["stations/mapped/_text.pyx"],
                extra_compile_args=["-O3"],
            ),
            Extension(
                "stations.mapped._decode",
                ["stations/mapped/_decode.pyx"],
                extra_compile_args=["-O3"],
            ),
            Extension(
                "stations.mapped._render",
                ["stations/mapped/_render.pyx"],
                extra_compile_args=["-O3"],
            ),
            Extension(
                "stations.trust._untrack",
                ["stations/trust/_untrack.pyx"],
                extra_compile_args=["-O3"],
            ),
        ],
        include_path=["."],
        language_level=3,
    )
)
