"""The one thing pyproject.toml cannot declare: the optional compiled envelope writer.

``optional=True``: without a C compiler the install still succeeds and the transform runs in
Python only (liveevents/caliper/native.py), with the same output.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "liveevents.caliper._native",
            sources=["liveevents/caliper/_native.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
