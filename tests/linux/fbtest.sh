# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by /init when the kernel command line has vessel.fbtest
# (tests/linux/run-fb.py): the framebuffer the VMM handed over in
# boot_params.screen_info must be /dev/fb0, and what is written there must
# reach the VMM's screen. Draws the bottom half of the screen:
#   rows H/2 .. H-1 in four equal bands; in each band the left half of a row
#   is one colour and the right half another (stride or offset mistakes
#   show as shifted edges):  red|green, blue|white, yellow|black, cyan|magenta
# then prints VESSEL-FB-READY and waits for a line on the console.

fb=/sys/class/graphics/fb0
if [ ! -c /dev/fb0 ] || [ ! -d $fb ]; then
	echo "VESSEL-FB-FAIL no /dev/fb0"
	return 1
fi
IFS=, read -r width height < $fb/virtual_size
read -r bpp < $fb/bits_per_pixel
read -r stride < $fb/stride
read -r name < $fb/name
echo "vessel: fb0 '$name' ${width}x${height} ${bpp} bpp, stride $stride"
if [ "$bpp" != 32 ]; then
	echo "VESSEL-FB-FAIL fb0 has $bpp bits per pixel, want 32"
	return 1
fi

# Hide the console's cursor so nothing blinks over the picture.
printf '\033[?25l' > /dev/tty1 2> /dev/null
echo 0 > /sys/class/graphics/fbcon/cursor_blink 2> /dev/null

# Linux's bochs DRM driver (vessel.bochs): its fbdev keeps a shadow buffer,
# and in Linux 6.1 a write() to /dev/fb0 never reaches the screen (QEMU's
# bochs-display shows the same), so the driver is checked through what its
# console draws: the screen cleared, then BLOCKS red full-block characters
# (U+2588) on the first line. With the 8x16 font that is a BLOCKS*8 x 16
# rectangle of VGA red (0xaa0000) at the top left, black around it.
case $name in
bochs*)
	printf '\033[H\033[J\033[31m' > /dev/tty1
	i=0
	while [ $i -lt 40 ]; do
		printf '\342\226\210' > /dev/tty1
		i=$((i + 1))
	done
	echo "VESSEL-FB-READY ${width}x${height} console blocks 40"
	read -r -t 120 _
	return 0
	;;
esac

# pixel B G R X as octal escapes
pixel() {
	case $1 in
	red) printf '\000\000\377\000' ;;
	green) printf '\000\377\000\000' ;;
	blue) printf '\377\000\000\000' ;;
	white) printf '\377\377\377\000' ;;
	yellow) printf '\000\377\377\000' ;;
	black) printf '\000\000\000\000' ;;
	cyan) printf '\377\377\000\000' ;;
	magenta) printf '\377\000\377\000' ;;
	esac
}
# $2 copies of the 4-byte pixel in file $1 into $3: doubling, then cut.
repeat() {
	cp "$1" "$3.tmp"
	n=1
	while [ $n -lt "$2" ]; do
		cat "$3.tmp" "$3.tmp" > "$3.tmp2"
		mv "$3.tmp2" "$3.tmp"
		n=$((n * 2))
	done
	head -c $(($2 * 4)) "$3.tmp" > "$3"
	rm "$3.tmp"
}

mkdir -p /tmp/fb
cd /tmp/fb || return 1
band_rows=$((height / 8))
half=$((width / 2))
# A padded stride gets its padding from /dev/zero.
: > picture
for pair in red:green blue:white yellow:black cyan:magenta; do
	pixel "${pair%:*}" > left1
	pixel "${pair#*:}" > right1
	repeat left1 $half left
	repeat right1 $half right
	cat left right > row
	pad=$((stride - width * 4))
	if [ $pad -gt 0 ]; then
		dd if=/dev/zero bs=$pad count=1 2> /dev/null >> row
	fi
	i=0
	while [ $i -lt $band_rows ]; do
		cat row >> picture
		i=$((i + 1))
	done
done
dd if=picture of=/dev/fb0 bs=$stride seek=$((height / 2)) 2> /dev/null
echo "VESSEL-FB-READY ${width}x${height} rows $((height / 2))-$((height / 2 + 4 * band_rows - 1))"
read -r -t 120 _
cd /
return 0
