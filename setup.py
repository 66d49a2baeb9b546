"""The compiled modules of the nearest-station hot path: the certified k-NN
(geodata/_chordtree.pyx) and the splice of its answer's JSON (stations/_splice.pyx).

Everything else about the package is declared in pyproject.toml; this file exists only
because the first needs numpy's C headers, whose location is known at build time.
"""

import numpy
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "geodata._chordtree",
            ["geodata/_chordtree.pyx"],
            include_dirs=[numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=["-O3"],
        ),
        Extension("stations._splice", ["stations/_splice.pyx"], extra_compile_args=["-O3"]),
    ]
)
