#!/bin/sh
# Firmware build (docs/firmware.md): the static library for a Cortex-M7 with a double-precision
# FPU (cross/arm-none-eabi.txt), portable kernels, no default allocator. Checks that
#  - no object references stdio, malloc & co., abort or exit (arm-none-eabi-nm -u),
#  - no object has writable data (.data/.bss: the library keeps no global state),
#  - the objects' text fits cross/size-budget.txt (arm-none-eabi-size),
#  - a program on the no-heap path (tests/firmware_link.c) links, and its image has no malloc,
#    free or stdio in it.
set -e
dir=build-firmware
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --cross-file cross/arm-none-eabi.txt \
        -Dblas=disabled -Dtests=false -Ddefault_alloc=false >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null
lib="$dir/lib/librill.a"
objs="$dir/firmware-objects"
rm -rf "$objs"
mkdir -p "$objs"
(cd "$objs" && arm-none-eabi-ar x ../lib/librill.a)

status=0
forbidden='^(printf|fprintf|sprintf|snprintf|vprintf|vfprintf|vsprintf|vsnprintf|puts|fputs|putchar|fputc|putc|fwrite|fread|fopen|fclose|fflush|perror|stdout|stderr|_impure_ptr|__getreent|_(v?f?s?n?printf|puts|fwrite)_r|malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|_(malloc|calloc|realloc|free|memalign)_r|abort|exit|_exit|_Exit|atexit|__assert_func|raise|signal|setlocale|getenv)$'
# Control: the check sees the default allocator's malloc/free (built here, left out of $lib).
arm-none-eabi-gcc -mcpu=cortex-m7 -mthumb -Os -std=c99 -Iinclude -Ilib -DRILL_BUILDING \
    -c lib/alloc_default.c -o "$dir/alloc_default_control.o"
if ! arm-none-eabi-nm -u "$dir/alloc_default_control.o" | awk '{print $NF}' |
    grep -Eq "$forbidden"; then
    echo "FAIL: the reference check does not see malloc/free in lib/alloc_default.c"
    status=1
fi
for o in "$objs"/*.o; do
    bad=$(arm-none-eabi-nm -u "$o" | awk '{print $NF}' | grep -E "$forbidden" || true)
    if [ -n "$bad" ]; then
        echo "FAIL: $(basename "$o") references:" $bad
        status=1
    fi
done

echo "firmware objects (arm-none-eabi-size, Cortex-M7, -Os):"
arm-none-eabi-size "$objs"/*.o | sed "s|$objs/||"
total=$(arm-none-eabi-size "$objs"/*.o | awk 'NR > 1 {t += $1} END {print t}')
data=$(arm-none-eabi-size "$objs"/*.o | awk 'NR > 1 {t += $2 + $3} END {print t}')
budget=$(awk '$1 == "text" {print $2}' cross/size-budget.txt)
echo "text: $total bytes; budget: $budget bytes; data + bss: $data bytes"
if [ "$data" -ne 0 ]; then
    echo "FAIL: the library has writable data (global state)"
    status=1
fi
if [ "$total" -gt "$budget" ]; then
    echo "FAIL: text $total bytes exceeds the budget of $budget bytes (cross/size-budget.txt)"
    status=1
fi

# A program on the no-heap path links without malloc, free or stdio.
cpu="-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard -mthumb"
arm-none-eabi-gcc $cpu -Os -std=c99 -Wall -Wextra -Werror -Iinclude -ffunction-sections \
    -fdata-sections tests/firmware_link.c "$lib" -lm --specs=nosys.specs -Wl,--gc-sections \
    -Wl,-Map="$dir/firmware_link.map" -o "$dir/firmware_link.elf"
bad=$(arm-none-eabi-nm "$dir/firmware_link.elf" | awk '{print $NF}' |
    grep -E '^(_?(malloc|free|calloc|realloc)(_r)?|printf|puts|fwrite|_vfprintf_r|abort)$' || true)
if [ -n "$bad" ]; then
    echo "FAIL: the no-heap firmware program links:" $bad
    status=1
fi
# rill's share of that image: the sizes of the sections the linker kept from librill.a.
linked=0
for size in $(awk '/^Linker script and memory map/ {on = 1} !on {next}
    /^ \.(text|rodata)/ {name = $1; if (NF >= 4) {size = $3; file = $4} else next}
    /^ +0x/ && name != "" {size = $2; file = $3}
    file ~ /librill\.a\(/ && size ~ /^0x/ {print size; file = ""; name = ""}' \
    "$dir/firmware_link.map"); do
    linked=$((linked + size))
done
echo "no-heap program: links without malloc/free/stdio; rill's code and constants in it: $linked bytes"
exit $status
