"""The local platform's build script: PlatformIO's BuildProgram with the arm-none-eabi-gcc on PATH.

It stands in for a registry platform's builder (ststm32's builder/main.py has the same shape):
the Cortex-M4F flags of Waft's mps2-an386 target (the drop-in's WAFT_BSP_CPU_FLAGS), a bare
image without the C runtime's start files (the vendor's startup_an386.c is the start), newlib
nano; the project's build_flags add the drop-in and board_build.ldscript the vendor's script.
"""

from SCons.Script import Default, DefaultEnvironment

env = DefaultEnvironment()
env.Replace(AR="arm-none-eabi-gcc-ar", AS="arm-none-eabi-as", CC="arm-none-eabi-gcc", CXX="arm-none-eabi-g++",
            OBJCOPY="arm-none-eabi-objcopy", RANLIB="arm-none-eabi-gcc-ranlib", SIZETOOL="arm-none-eabi-size",
            PROGSUFFIX=".elf")
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
env.Append(ASFLAGS=CPU, CCFLAGS=[*CPU, "-O2", "-ffunction-sections", "-fdata-sections"],
           LINKFLAGS=[*CPU, "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections",
                      "-Wl,--no-warn-execstack"])
Default(env.BuildProgram())
