"""The one thing pyproject.toml cannot declare: the optional compiled envelope writer.

``optional=True``: without a C compiler the install still succeeds and the transform runs in
Python only (liveevents/caliper/native.py), with the same output.  The build records the
SHA-256 of the source it compiled, so a checkout whose ``_native.c`` changed since (an
editable install not rebuilt) is noticed at import and the Python path is used instead.
"""

from hashlib import sha256
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "liveevents/caliper/_native.c"

setup(
    ext_modules=[
        Extension(
            "liveevents.caliper._native",
            sources=[SOURCE],
            define_macros=[("SOURCE_SHA256", '"' + sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest() + '"')],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
