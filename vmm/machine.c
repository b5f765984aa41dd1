/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "machine.h"

#include <string.h>

#include "acpi.h"
#include "bochs_display.h"
#include "debug_exit.h"
#include "e820.h"
#include "error.h"
#include "fw_cfg.h"
#include "i8042.h"
#include "input.h"
#include "ps2_keyboard.h"
#include "ps2_mouse.h"
#include "layout.h"
#include "log.h"
#include "mptable.h"
#include "pci.h"
#include "rtc.h"
#include "timer.h"
#include "serial.h"

struct machine {
	const struct machine_config *config;
	struct guest_memory mem;
	struct bus pio, mmio;

	const struct accel_ops *accel;
	struct accel_env accel_env;
	void *vm;			/* NULL between a reset's teardown and the next boot */
	GRWLock vm_lock;		/* readers: set_irq from any thread */

	struct vcpu vcpus[MACHINE_MAX_CPUS];
	unsigned int nr_cpus;

	struct serial *serial;
	struct rtc *rtc;
	struct acpi_pm *acpi_pm;
	struct timer_service *timers;	/* for devices (the RTC) on either accelerator */
	struct i8042 *i8042;
	struct pci_bus *pci;
	struct display *display;
	struct input *input;
	struct ps2_keyboard *keyboard;
	struct ps2_mouse *mouse;
	struct bochs_display *bochs_display;
	struct fw_cfg *fw_cfg;
	struct debug_exit debug_exit;
	struct boot_config boot_config;
	struct boot_entry boot_entry;
	bool kernel_loaded;		/* the image in RAM is fresh (first boot) */

	machine_event_fn event_fn;
	void *event_opaque;

	/* Lifecycle, under lock. */
	GMutex lock;
	GCond cond;
	bool paused;
	bool vcpus_exit;		/* vCPU threads must return */
	unsigned int vcpus_active;	/* threads neither parked nor gone */
	unsigned int vcpus_created;	/* start barrier */
	bool shutdown_requested;
	int exit_status;
	const char *shutdown_reason;
	bool shutdown_by_guest;
	bool reset_requested;
	const char *reset_reason;
	bool reset_by_guest;
	GError *fatal_error;
};

void machine_config_init(struct machine_config *config)
{
	memset(config, 0, sizeof(*config));
	config->accel = ACCEL_CHOICE_AUTO;
	config->ram_size_bytes = 512ULL << 20;
	config->nr_cpus = 1;
	config->display_width = MACHINE_DEFAULT_DISPLAY_WIDTH;
	config->display_height = MACHINE_DEFAULT_DISPLAY_HEIGHT;
	config->serial = SERIAL_BACKEND_STDIO;
	config->fw_cfg_files = g_ptr_array_new();
}

static void fw_cfg_user_file_free(struct fw_cfg_user_file *file)
{
	g_free(file->name);
	g_bytes_unref(file->data);
	g_free(file);
}

void machine_config_clear(struct machine_config *config)
{
	g_free(config->kernel_path);
	g_free(config->initrd_path);
	g_free(config->cmdline);
	g_free(config->serial_path);
	g_free(config->control_path);
	if (config->fw_cfg_files) {
		for (unsigned int i = 0; i < config->fw_cfg_files->len; i++)
			fw_cfg_user_file_free(g_ptr_array_index(config->fw_cfg_files, i));
		g_ptr_array_free(config->fw_cfg_files, TRUE);
	}
	memset(config, 0, sizeof(*config));
}

const struct guest_memory *machine_memory(struct machine *m)
{
	return &m->mem;
}

struct display *machine_display(struct machine *m)
{
	return m->display;
}

struct input *machine_input(struct machine *m)
{
	return m->input;
}

const char *machine_accel_name(struct machine *m)
{
	return m->accel->name;
}

void machine_set_event_handler(struct machine *m, machine_event_fn fn, void *opaque)
{
	m->event_fn = fn;
	m->event_opaque = opaque;
}

static void emit_event(struct machine *m, const char *name, JsonObject *data)
{
	if (m->event_fn)
		m->event_fn(m->event_opaque, name, data);
	else if (data)
		json_object_unref(data);
}

static JsonObject *reason_data(bool by_guest, const char *reason)
{
	JsonObject *data = json_object_new();

	json_object_set_boolean_member(data, "guest", by_guest);
	json_object_set_string_member(data, "reason", reason);
	return data;
}

/* Device-facing callbacks. */

static void machine_set_irq(void *opaque, unsigned int gsi, bool level)
{
	struct machine *m = opaque;

	g_rw_lock_reader_lock(&m->vm_lock);
	if (m->vm)
		m->accel->set_irq(m->vm, gsi, level);
	g_rw_lock_reader_unlock(&m->vm_lock);
}

static struct irq_line irq_line_for(struct machine *m, unsigned int gsi)
{
	return (struct irq_line){ .set_level = machine_set_irq, .opaque = m, .gsi = gsi };
}

static void guest_requested_reset(void *opaque)
{
	machine_request_reset(opaque, "guest-reset", true);
}

/* Video memory follows its BAR; the accelerator maps it and logs its writes. */
static void vram_moved(void *opaque, unsigned int index)
{
	struct machine *m = opaque;

	g_rw_lock_reader_lock(&m->vm_lock);
	/* Without a VM (between a reset's teardown and the next boot) vm_create maps it. */
	if (m->vm)
		m->accel->device_ram_changed(m->vm, index);
	g_rw_lock_reader_unlock(&m->vm_lock);
}

static bool vram_dirty(void *opaque, unsigned int index, uint64_t *bitmap)
{
	struct machine *m = opaque;
	bool ok = true;

	g_rw_lock_reader_lock(&m->vm_lock);
	if (m->vm)
		ok = m->accel->device_ram_dirty(m->vm, index, bitmap);
	g_rw_lock_reader_unlock(&m->vm_lock);
	return ok;
}

static const struct bochs_display_host_ops vram_host_ops = {
	.vram_moved = vram_moved,
	.vram_dirty = vram_dirty,
};

static void guest_requested_power_off(void *opaque)
{
	machine_request_shutdown(opaque, 0, "guest-shutdown", true);
}

static void guest_requested_exit(void *opaque, int status)
{
	machine_request_shutdown(opaque, status, "guest-test-exit", true);
}

/* Lifecycle. */

static void kick_all_locked(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_cpus; i++)
		if (m->vcpus[i].accel_state)
			m->accel->vcpu_kick(m->vcpus[i].accel_state);
}

static void stop_vcpus_locked(struct machine *m)
{
	m->vcpus_exit = true;
	kick_all_locked(m);
	g_cond_broadcast(&m->cond);
}

void machine_request_shutdown(struct machine *m, int exit_status, const char *reason, bool by_guest)
{
	g_mutex_lock(&m->lock);
	if (!m->shutdown_requested) {
		m->shutdown_requested = true;
		m->exit_status = exit_status;
		m->shutdown_reason = reason;
		m->shutdown_by_guest = by_guest;
	}
	stop_vcpus_locked(m);
	g_mutex_unlock(&m->lock);
}

void machine_request_reset(struct machine *m, const char *reason, bool by_guest)
{
	g_mutex_lock(&m->lock);
	if (!m->reset_requested) {
		m->reset_requested = true;
		m->reset_reason = reason;
		m->reset_by_guest = by_guest;
	}
	stop_vcpus_locked(m);
	g_mutex_unlock(&m->lock);
}

void machine_request_powerdown(struct machine *m)
{
	acpi_pm_press_power_button(m->acpi_pm);
	emit_event(m, "POWERDOWN", NULL);
}

static void machine_fail(struct machine *m, GError *error)
{
	g_mutex_lock(&m->lock);
	if (!m->fatal_error)
		m->fatal_error = error;
	else
		g_error_free(error);
	stop_vcpus_locked(m);
	g_mutex_unlock(&m->lock);
}

void machine_pause(struct machine *m)
{
	g_mutex_lock(&m->lock);
	if (m->paused || m->shutdown_requested) {
		g_mutex_unlock(&m->lock);
		return;
	}
	m->paused = true;
	kick_all_locked(m);
	while (m->vcpus_active > 0)
		g_cond_wait(&m->cond, &m->lock);
	g_mutex_unlock(&m->lock);
	emit_event(m, "STOP", NULL);
}

void machine_resume(struct machine *m)
{
	g_mutex_lock(&m->lock);
	if (!m->paused) {
		g_mutex_unlock(&m->lock);
		return;
	}
	m->paused = false;
	g_cond_broadcast(&m->cond);
	g_mutex_unlock(&m->lock);
	emit_event(m, "RESUME", NULL);
}

enum machine_status machine_get_status(struct machine *m)
{
	enum machine_status status;

	g_mutex_lock(&m->lock);
	status = m->shutdown_requested ? MACHINE_STATUS_SHUTDOWN :
		 m->paused ? MACHINE_STATUS_PAUSED : MACHINE_STATUS_RUNNING;
	g_mutex_unlock(&m->lock);
	return status;
}

size_t machine_serial_input(struct machine *m, const uint8_t *data, size_t len)
{
	return serial_receive(m->serial, data, len);
}

/* Runs guest code until the machine wants this thread to leave. */
static void vcpu_loop(struct machine *m, struct vcpu *vcpu)
{
	for (;;) {
		GError *error = NULL;
		enum vcpu_exit exit;

		g_mutex_lock(&m->lock);
		if (m->paused && !m->vcpus_exit) {
			m->vcpus_active--;
			g_cond_broadcast(&m->cond);
			while (m->paused && !m->vcpus_exit)
				g_cond_wait(&m->cond, &m->lock);
			m->vcpus_active++;
		}
		if (m->vcpus_exit) {
			g_mutex_unlock(&m->lock);
			return;
		}
		g_mutex_unlock(&m->lock);

		exit = m->accel->vcpu_run(vcpu->accel_state, &error);
		switch (exit) {
		case VCPU_EXIT_KICKED:
			break;
		case VCPU_EXIT_RESET:
			machine_request_reset(m, "guest-reset", true);
			break;
		case VCPU_EXIT_ERROR:
			machine_fail(m, error);
			break;
		}
	}
}

static gpointer vcpu_thread(gpointer data)
{
	struct vcpu *vcpu = data;
	struct machine *m = vcpu->owner;
	GError *error = NULL;
	void *state = m->accel->vcpu_create(m->vm, vcpu, &error);
	bool run;

	g_mutex_lock(&m->lock);
	vcpu->accel_state = state;
	m->vcpus_created++;
	g_cond_broadcast(&m->cond);
	/* Every vCPU exists before any runs: the BSP may send IPIs at once. */
	while (m->vcpus_created < m->nr_cpus && !m->vcpus_exit)
		g_cond_wait(&m->cond, &m->lock);
	run = state && !m->vcpus_exit;
	g_mutex_unlock(&m->lock);

	if (!state)
		machine_fail(m, error);
	else if (run && vcpu->index == 0 &&
		 !m->accel->vcpu_set_state(state, &m->boot_entry.bsp, &error)) {
		machine_fail(m, error);
		run = false;
	}
	if (run && vcpu->index == 0)
		log_debug("entering the guest %.1f ms after start", log_ms_since_start());
	/* Application processors wait in KVM for INIT/SIPI from the BSP. */
	if (run)
		vcpu_loop(m, vcpu);

	g_mutex_lock(&m->lock);
	vcpu->accel_state = NULL;	/* no more kicks */
	m->vcpus_active--;
	g_cond_broadcast(&m->cond);
	g_mutex_unlock(&m->lock);
	if (state)
		m->accel->vcpu_destroy(state);
	return NULL;
}

/*
 * What firmware does before it starts a kernel: PCI addresses, and the
 * framebuffer in a linear mode the kernel is told about.
 */
static bool firmware_setup(struct machine *m, GError **error)
{
	struct boot_framebuffer *fb = &m->boot_config.framebuffer;
	uint64_t lfb_addr;

	pci_bus_assign_resources(m->pci);
	if (!bochs_display_set_boot_mode(m->bochs_display, m->config->display_width,
					 m->config->display_height, &lfb_addr, error))
		return false;
	*fb = (struct boot_framebuffer){
		.base = lfb_addr,
		.width = m->config->display_width,
		.height = m->config->display_height,
		.stride_bytes = m->config->display_width * 4,
		.size_bytes = BOCHS_DISPLAY_DEFAULT_VRAM,
	};
	return true;
}

static bool load_boot_image(struct machine *m, GError **error)
{
	if (!loader_load(&m->mem, &m->boot_config, &m->boot_entry, error))
		return false;
	if (!mptable_write(&m->mem, m->nr_cpus, error) || !acpi_tables_write(&m->mem, m->nr_cpus, error))
		return false;
	return true;
}

static bool start_vcpus(struct machine *m, GError **error)
{
	g_mutex_lock(&m->lock);
	m->vcpus_created = 0;
	m->vcpus_active = m->nr_cpus;
	g_mutex_unlock(&m->lock);
	for (unsigned int i = 0; i < m->nr_cpus; i++) {
		struct vcpu *vcpu = &m->vcpus[i];
		g_autofree char *name = g_strdup_printf("vcpu%u", i);

		vcpu->owner = m;
		vcpu->index = i;
		vcpu->thread = g_thread_try_new(name, vcpu_thread, vcpu, error);
		if (!vcpu->thread) {
			g_mutex_lock(&m->lock);
			/* Threads never started neither count nor wait. */
			m->vcpus_active -= m->nr_cpus - i;
			m->vcpus_created += m->nr_cpus - i;
			stop_vcpus_locked(m);
			g_mutex_unlock(&m->lock);
			return false;
		}
	}
	return true;
}

static void join_vcpus(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_cpus; i++) {
		if (m->vcpus[i].thread) {
			g_thread_join(m->vcpus[i].thread);
			m->vcpus[i].thread = NULL;
		}
	}
}

static void destroy_vm(struct machine *m)
{
	void *vm;

	g_rw_lock_writer_lock(&m->vm_lock);
	vm = m->vm;
	m->vm = NULL;
	g_rw_lock_writer_unlock(&m->vm_lock);
	if (vm)
		m->accel->vm_destroy(vm);
}

static void reset_devices(struct machine *m)
{
	serial_reset(m->serial);
	rtc_reset(m->rtc);
	acpi_pm_reset(m->acpi_pm);
	i8042_reset(m->i8042);
	ps2_keyboard_reset(m->keyboard);
	ps2_mouse_reset(m->mouse);
	pci_bus_reset(m->pci);
	bochs_display_reset(m->bochs_display);
	fw_cfg_reset(m->fw_cfg);
}

int machine_run(struct machine *m, GError **error)
{
	for (;;) {
		bool ok = true;

		if (!m->vm) {
			void *vm = m->accel->vm_create(&m->accel_env, error);

			if (!vm)
				return -1;
			g_rw_lock_writer_lock(&m->vm_lock);
			m->vm = vm;
			g_rw_lock_writer_unlock(&m->vm_lock);
		}
		/* A reset reloads the kernel, as firmware would reload it from disk. */
		if (!m->kernel_loaded && !load_boot_image(m, error))
			ok = false;
		m->kernel_loaded = false;
		if (ok && !start_vcpus(m, error))
			ok = false;

		g_mutex_lock(&m->lock);
		if (!ok)
			stop_vcpus_locked(m);
		while (!m->vcpus_exit)
			g_cond_wait(&m->cond, &m->lock);
		g_mutex_unlock(&m->lock);

		join_vcpus(m);
		destroy_vm(m);
		if (!ok)
			return -1;

		g_mutex_lock(&m->lock);
		GError *fatal = g_steal_pointer(&m->fatal_error);
		bool shutdown = m->shutdown_requested, reset = m->reset_requested;
		const char *reset_reason = m->reset_reason;
		bool reset_by_guest = m->reset_by_guest;

		m->reset_requested = false;
		m->vcpus_exit = false;
		g_mutex_unlock(&m->lock);

		if (fatal) {
			g_propagate_error(error, fatal);
			emit_event(m, "SHUTDOWN", reason_data(false, "host-error"));
			return -1;
		}
		if (shutdown) {
			emit_event(m, "SHUTDOWN", reason_data(m->shutdown_by_guest, m->shutdown_reason));
			return m->exit_status;
		}
		if (reset && m->config->no_reboot) {
			log_info("the guest reset the machine; exiting (--no-reboot)");
			emit_event(m, "SHUTDOWN", reason_data(reset_by_guest, reset_reason));
			return 0;
		}
		emit_event(m, "RESET", reason_data(reset_by_guest, reset_reason));
		reset_devices(m);
		if (!firmware_setup(m, error))
			return -1;
	}
}

static bool register_devices(struct machine *m, int serial_out_fd, GError **error)
{
	struct bus *pio = &m->pio;

	m->serial = serial_new(irq_line_for(m, SERIAL_COM1_GSI), serial_out_fd);
	m->rtc = rtc_new();
	m->timers = timer_service_new();
	rtc_attach(m->rtc, irq_line_for(m, RTC_GSI), m->timers);
	rtc_set_memory_fields(m->rtc, guest_memory_low_end(&m->mem), guest_memory_high_size(&m->mem),
			      m->nr_cpus);
	m->acpi_pm = acpi_pm_new(irq_line_for(m, ACPI_SCI_GSI), guest_requested_power_off, m);
	m->i8042 = i8042_new(irq_line_for(m, I8042_KBD_GSI), irq_line_for(m, I8042_AUX_GSI),
			     guest_requested_reset, m);
	m->input = input_new();
	m->keyboard = ps2_keyboard_new(m->i8042, m->input, m->timers);
	m->mouse = ps2_mouse_new(m->i8042, m->input);
	m->pci = pci_bus_new(&m->pio, &m->mmio, guest_requested_reset, m);
	m->display = display_new();
	m->bochs_display = bochs_display_new(&m->mem, m->display, BOCHS_DISPLAY_DEFAULT_VRAM,
					     &vram_host_ops, m, error);
	if (!m->bochs_display)
		return false;
	m->fw_cfg = fw_cfg_new(&m->mem);
	m->debug_exit = (struct debug_exit){ .request_exit = guest_requested_exit, .opaque = m };

	return bus_register(pio, SERIAL_COM1_PORT, SERIAL_PORT_COUNT, &serial_bus_ops, m->serial, "COM1", error) &&
	       bus_register(pio, RTC_PORT, RTC_PORT_COUNT, &rtc_bus_ops, m->rtc, "RTC", error) &&
	       bus_register(pio, ACPI_PM_PORT, ACPI_PM_PORT_COUNT, &acpi_pm_bus_ops, m->acpi_pm, "ACPI PM", error) &&
	       bus_register(pio, I8042_DATA_PORT, 1, &i8042_data_ops, m->i8042, "i8042 data", error) &&
	       bus_register(pio, I8042_COMMAND_PORT, 1, &i8042_command_ops, m->i8042, "i8042 command", error) &&
	       bus_register(pio, PCI_CONFIG_PORT, PCI_CONFIG_PORT_COUNT, &pci_config_ops, m->pci, "PCI configuration", error) &&
	       bus_register(pio, FW_CFG_PORT_SELECTOR, FW_CFG_PORT_COUNT, &fw_cfg_bus_ops, m->fw_cfg, "fw_cfg", error) &&
	       bus_register(pio, DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_COUNT, &debug_exit_ops, &m->debug_exit, "test exit", error) &&
	       bus_register(pio, BOCHS_DISPLAY_PORT, BOCHS_DISPLAY_PORT_COUNT, &bochs_display_port_ops, m->bochs_display, "bochs-display", error) &&
	       pci_bus_add_device(m->pci, bochs_display_pci_device(m->bochs_display), 2, error);
}

static bool fill_fw_cfg(struct machine *m, GError **error)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	unsigned int n = e820_build(&m->mem, e820);
	uint8_t e820_blob[E820_MAX_ENTRIES * 20];
	const struct machine_config *config = m->config;

	fw_cfg_add_u64(m->fw_cfg, FW_CFG_RAM_SIZE, m->mem.ram_size_bytes);
	fw_cfg_add_u16(m->fw_cfg, FW_CFG_NB_CPUS, (uint16_t)m->nr_cpus);
	fw_cfg_add_u16(m->fw_cfg, FW_CFG_MAX_CPUS, (uint16_t)m->nr_cpus);
	fw_cfg_add_u16(m->fw_cfg, FW_CFG_NOGRAPHIC, 1);
	/* "etc/e820": packed little-endian {u64 address, u64 length, u32 type}. */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t addr = GUINT64_TO_LE(e820[i].addr), size = GUINT64_TO_LE(e820[i].size);
		uint32_t type = GUINT32_TO_LE(e820[i].type);

		memcpy(e820_blob + 20 * i, &addr, 8);
		memcpy(e820_blob + 20 * i + 8, &size, 8);
		memcpy(e820_blob + 20 * i + 16, &type, 4);
	}
	g_autoptr(GBytes) e820_bytes = g_bytes_new(e820_blob, 20 * n);
	if (!fw_cfg_add_file(m->fw_cfg, "etc/e820", e820_bytes, error))
		return false;
	for (unsigned int i = 0; i < config->fw_cfg_files->len; i++) {
		const struct fw_cfg_user_file *file = g_ptr_array_index(config->fw_cfg_files, i);

		if (!fw_cfg_add_file(m->fw_cfg, file->name, file->data, error))
			return false;
	}
	return true;
}

static const struct accel_ops *choose_accel(struct machine *m, GError **error)
{
	const struct machine_config *config = m->config;
	GError *kvm_error = NULL;
	void *vm;

	if (config->accel == ACCEL_CHOICE_TCG) {
		m->vm = tcg_accel_ops.vm_create(&m->accel_env, error);
		return m->vm ? &tcg_accel_ops : NULL;
	}
	vm = kvm_accel_ops.vm_create(&m->accel_env, &kvm_error);
	if (vm) {
		m->vm = vm;
		if (config->accel == ACCEL_CHOICE_AUTO)
			log_info("accelerator: kvm (/dev/kvm is usable)");
		return &kvm_accel_ops;
	}
	if (config->accel == ACCEL_CHOICE_KVM) {
		g_propagate_error(error, kvm_error);
		return NULL;
	}
	/* auto: the software CPU runs the same machine, only slower; say why once. */
	log_info("accelerator: tcg, the software CPU (slower than KVM), because %s", kvm_error->message);
	g_error_free(kvm_error);
	m->vm = tcg_accel_ops.vm_create(&m->accel_env, error);
	return m->vm ? &tcg_accel_ops : NULL;
}

struct machine *machine_new(const struct machine_config *config, int serial_out_fd, GError **error)
{
	struct machine *m = g_new0(struct machine, 1);

	m->config = config;
	m->nr_cpus = config->nr_cpus;
	g_mutex_init(&m->lock);
	g_cond_init(&m->cond);
	g_rw_lock_init(&m->vm_lock);
	bus_init(&m->pio, "I/O port");
	bus_init(&m->mmio, "MMIO");
	m->boot_config = (struct boot_config){
		.kernel_path = config->kernel_path,
		.initrd_path = config->initrd_path,
		.cmdline = config->cmdline,
		.guest_decompress = config->guest_decompress,
	};

	if (m->nr_cpus == 0 || m->nr_cpus > MACHINE_MAX_CPUS) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "--cpus must be between 1 and %d", MACHINE_MAX_CPUS);
		goto fail;
	}
	if (!config->kernel_path) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "nothing to boot: give a kernel with --kernel FILE");
		goto fail;
	}
	if (!guest_memory_init(&m->mem, config->ram_size_bytes, error))
		goto fail;
	m->accel_env = (struct accel_env){
		.mem = &m->mem, .pio = &m->pio, .mmio = &m->mmio, .nr_cpus = m->nr_cpus,
	};
	if (!register_devices(m, serial_out_fd, error) || !fill_fw_cfg(m, error) ||
	    !firmware_setup(m, error))
		goto fail;
	/* Load before anything starts, so a bad kernel fails fast and clearly. */
	if (!load_boot_image(m, error))
		goto fail;
	m->kernel_loaded = true;
	m->accel = choose_accel(m, error);
	if (!m->accel)
		goto fail;
	log_debug("%s kernel '%s', %" G_GUINT64_FORMAT " MiB, %u vCPU(s)", m->boot_entry.protocol,
		  config->kernel_path, config->ram_size_bytes >> 20, m->nr_cpus);
	return m;

fail:
	machine_free(m);
	return NULL;
}

void machine_free(struct machine *m)
{
	if (!m)
		return;
	/* The RTC's timer raises interrupts on the VM: stop it first. */
	rtc_free(m->rtc);
	/* Typematic repeat runs on the timer service too. */
	ps2_keyboard_free(m->keyboard);
	if (m->timers)
		timer_service_free(m->timers);
	if (m->vm && m->accel)
		m->accel->vm_destroy(m->vm);
	serial_free(m->serial);
	acpi_pm_free(m->acpi_pm);
	ps2_mouse_free(m->mouse);
	input_free(m->input);
	i8042_free(m->i8042);
	pci_bus_free(m->pci);
	bochs_display_free(m->bochs_display);
	display_free(m->display);
	fw_cfg_free(m->fw_cfg);
	bus_destroy(&m->pio);
	bus_destroy(&m->mmio);
	guest_memory_destroy(&m->mem);
	if (m->fatal_error)
		g_error_free(m->fatal_error);
	g_rw_lock_clear(&m->vm_lock);
	g_cond_clear(&m->cond);
	g_mutex_clear(&m->lock);
	g_free(m);
}
