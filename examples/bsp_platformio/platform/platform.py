"""PlatformIO's entry point for the local platform of examples/bsp_platformio: nothing beyond the base class."""

from platformio.public import PlatformBase


class WaftlocalPlatform(PlatformBase):  # PlatformIO derives the class name from "waftlocal"
    """The MPS2 AN386 built with the system's arm-none-eabi-gcc (builder/main.py)."""
