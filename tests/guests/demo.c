/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * demo: a friendly interactive guest for the README, not a test.
 *
 * Prints what it finds about the machine (memory from the multiboot map,
 * CPUs from fw_cfg, the RTC's time, the CPU's brand string), then offers
 * a prompt on the serial console: characters arrive by interrupt (IRQ 4)
 * and the CPU halts while nobody types.  Commands: help, info, reboot
 * (i8042 reset: with --no-reboot the VMM exits with status 0); any other
 * line is echoed back.
 */
#include "lib/cmos.h"
#include "lib/fw_cfg.h"
#include "lib/i8042.h"
#include "lib/io.h"
#include "lib/multiboot.h"
#include "lib/pic.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/string.h"
#include "lib/test.h"

const char guest_name[] = "demo";

#define LINE_MAX	78
#define ASCII_BS	0x08
#define ASCII_DEL	0x7f

static void print_brand(void)
{
	uint32_t max_ext, ebx, ecx, edx, words[12];
	char *brand = (char *)words;

	cpuid(0x80000000, &max_ext, &ebx, &ecx, &edx);
	if (max_ext < 0x80000004) {
		printf("  CPU:     (no brand string)\n");
		return;
	}
	for (uint32_t i = 0; i < 3; i++)
		cpuid(0x80000002 + i, &words[i * 4], &words[i * 4 + 1],
		      &words[i * 4 + 2], &words[i * 4 + 3]);
	brand[47] = '\0';
	while (*brand == ' ')
		brand++;
	printf("  CPU:     %s\n", *brand ? brand : "(empty brand string)");
}

static void print_info(void)
{
	struct rtc_time t;

	printf("  Memory:  %lu MiB available (multiboot memory map, %u ranges)\n",
	       multiboot_ram_total() >> 20, boot_info.mmap_count);
	if (fw_cfg_present())
		printf("  CPUs:    %u (fw_cfg)\n", fw_cfg_read_u16(FW_CFG_NB_CPUS));
	else
		printf("  CPUs:    unknown (no fw_cfg)\n");
	if (rtc_read(&t))
		printf("  Clock:   %04u-%02u-%02u %02u:%02u:%02u (RTC)\n",
		       t.year, t.month, t.day, t.hour, t.minute, t.second);
	else
		printf("  Clock:   the RTC did not answer\n");
	print_brand();
	if (boot_info.cmdline[0])
		printf("  Cmdline: %s\n", boot_info.cmdline);
}

static void print_help(void)
{
	printf("  help     this list\n");
	printf("  info     what this guest found about the machine\n");
	printf("  reboot   reset the machine through the keyboard controller\n");
	printf("  anything else is echoed back\n");
}

/* Reads one line, echoing as the user types; halts between keys. */
static void read_line(char *line)
{
	unsigned int len = 0;

	for (;;) {
		int c = serial_rx_irq_getc();

		if (c < 0) {
			irq_wait();
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (c == '\n' && len == 0)
				continue;	/* the \n of a \r\n pair */
			serial_putc('\n');
			line[len] = '\0';
			return;
		}
		if (c == ASCII_BS || c == ASCII_DEL) {
			if (len) {
				len--;
				serial_write("\b \b");
			}
			continue;
		}
		if (c >= ' ' && c < ASCII_DEL && len < LINE_MAX) {
			line[len++] = (char)c;
			serial_putc((char)c);
		}
	}
}

int main(void)
{
	char line[LINE_MAX + 1];

	printf("\n  Vessel demo guest\n  =================\n\n");
	print_info();
	printf("\n  Type 'help' for commands.\n\n");

	serial_rx_irq_start(PIC_MASTER_VECTOR + COM1_IRQ);
	for (;;) {
		const char *cmd;

		printf("vessel> ");
		read_line(line);
		cmd = line;
		while (*cmd == ' ')
			cmd++;
		if (!*cmd)
			continue;
		if (!strcmp(cmd, "help")) {
			print_help();
		} else if (!strcmp(cmd, "info")) {
			print_info();
		} else if (!strcmp(cmd, "reboot")) {
			printf("  Rebooting...\n");
			i8042_reset();
			printf("  The reset did not happen.\n");
		} else {
			printf("  you typed: %s\n", cmd);
		}
	}
}
