/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_MACHINE_H
#define VESSEL_VMM_MACHINE_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "accel.h"
#include "bus.h"
#include "guest_memory.h"
#include "display.h"
#include "input.h"
#include "loader.h"

/*
 * The Vessel PC: guest memory, the I/O and MMIO buses, the chipset devices
 * and the vCPU threads on one accelerator, plus its lifecycle (run, pause,
 * reset, shut down).
 *
 * Threads: machine_run() is called by the main thread and returns when the
 * machine has shut down.  Each vCPU has its own thread.  Requests (pause,
 * reset, shutdown) may come from any thread: vCPUs (a guest reset), the I/O
 * thread (control socket, stdin, signals).
 */
enum accel_choice {
	ACCEL_CHOICE_AUTO,
	ACCEL_CHOICE_KVM,
	ACCEL_CHOICE_TCG,
};

enum serial_backend {
	SERIAL_BACKEND_STDIO,
	SERIAL_BACKEND_NONE,
	SERIAL_BACKEND_FILE,
};

struct fw_cfg_user_file {
	char *name;
	GBytes *data;
};

#define MACHINE_MAX_CPUS 64

struct machine_config {
	enum accel_choice accel;
	uint64_t ram_size_bytes;
	unsigned int nr_cpus;
	char *kernel_path;
	char *initrd_path;
	char *cmdline;
	bool guest_decompress;		/* struct boot_config */
	enum serial_backend serial;
	char *serial_path;		/* SERIAL_BACKEND_FILE */
	char *control_path;		/* NULL: no control socket */
	bool no_reboot;
	GPtrArray *fw_cfg_files;	/* struct fw_cfg_user_file * */
	/* The mode firmware sets on the framebuffer before the kernel starts. */
	unsigned int display_width, display_height;
};

#define MACHINE_DEFAULT_DISPLAY_WIDTH	1024
#define MACHINE_DEFAULT_DISPLAY_HEIGHT	768

void machine_config_init(struct machine_config *config);
void machine_config_clear(struct machine_config *config);

enum machine_status {
	MACHINE_STATUS_RUNNING,
	MACHINE_STATUS_PAUSED,
	MACHINE_STATUS_SHUTDOWN,
};

struct machine;

/*
 * Builds the machine: picks the accelerator (saying which and why on
 * stderr), allocates memory, creates the devices, checks the kernel loads.
 * serial_out_fd receives COM1 output (-1: discard).
 */
struct machine *machine_new(const struct machine_config *config, int serial_out_fd,
			    GError **error);
void machine_free(struct machine *machine);

/* Called for STOP, RESUME, RESET, SHUTDOWN; data is transferred. Any thread. */
typedef void (*machine_event_fn)(void *opaque, const char *name, JsonObject *data);
void machine_set_event_handler(struct machine *machine, machine_event_fn fn, void *opaque);

/*
 * Runs the guest until it shuts down.  Returns the process exit status
 * (0 for power-off, the test-exit value, 0 for a reset under --no-reboot), or
 * -1 with *error set when the machine failed.
 */
int machine_run(struct machine *machine, GError **error);

/* Requests, callable from any thread.  Pause/resume return once done. */
void machine_request_shutdown(struct machine *machine, int exit_status, const char *reason,
			      bool by_guest);
void machine_request_reset(struct machine *machine, const char *reason, bool by_guest);
/*
 * Presses the ACPI power button (emits POWERDOWN): a guest that handles it
 * shuts down, which ends the machine with reason "guest-shutdown".
 */
void machine_request_powerdown(struct machine *machine);
void machine_pause(struct machine *machine);
void machine_resume(struct machine *machine);
enum machine_status machine_get_status(struct machine *machine);

/* Host input to the guest's COM1. Returns the bytes taken (retry the rest). */
size_t machine_serial_input(struct machine *machine, const uint8_t *data, size_t len);

const struct guest_memory *machine_memory(struct machine *machine);
/* The guest's screen (the framebuffer device publishes to it). */
struct display *machine_display(struct machine *machine);
/* Host keyboard and mouse events for the guest's PS/2 devices. */
struct input *machine_input(struct machine *machine);
const char *machine_accel_name(struct machine *machine);

#endif
