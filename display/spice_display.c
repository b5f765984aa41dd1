/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "spice_display.h"

#include <errno.h>
#include <glib-unix.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/input-event-codes.h>
#include <spice.h>
#include <string.h>

#include "display.h"
#include "error.h"
#include "input.h"
#include "keymap.h"
#include "log.h"

#define DEFAULT_ADDR		"127.0.0.1"
#define REFRESH_MS		33	/* ~30 pictures a second for remote viewers */
#define QUEUE_MAX		64	/* drawables waiting for the worker before we coalesce */
#define MEMSLOT_GROUP		0

/* --- configuration -------------------------------------------------------- */

void spice_display_config_clear(struct spice_display_config *config)
{
	g_free(config->addr);
	if (config->password)
		memset(config->password, 0, strlen(config->password));
	g_free(config->password);
	g_free(config->x509_dir);
	memset(config, 0, sizeof(*config));
}

static bool parse_port(const char *key, const char *value, unsigned int *port, GError **error)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);

	if (!*value || *end || v == 0 || v > 65535) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "--spice: %s=%s is not a port number (1-65535)", key, value);
		return false;
	}
	*port = (unsigned int)v;
	return true;
}

static bool read_password_file(const char *path, char **password, GError **error)
{
	g_autofree char *contents = NULL;
	GError *local = NULL;
	char *newline;

	if (!g_file_get_contents(path, &contents, NULL, &local)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "--spice: cannot read the password file: %s", local->message);
		g_error_free(local);
		return false;
	}
	newline = strchr(contents, '\n');
	if (newline)
		*newline = '\0';
	if (!*contents) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "--spice: the password file '%s' is empty", path);
		return false;
	}
	g_free(*password);
	*password = g_strdup(contents);
	memset(contents, 0, strlen(contents));
	return true;
}

bool spice_display_parse(const char *text, struct spice_display_config *config, GError **error)
{
	g_auto(GStrv) items = g_strsplit(text, ",", -1);

	for (char **item = items; *item; item++) {
		const char *eq = strchr(*item, '=');
		g_autofree char *key = eq ? g_strndup(*item, (gsize)(eq - *item)) : g_strdup(*item);
		const char *value = eq ? eq + 1 : NULL;
		bool ok = true;

		if (!strcmp(key, "disable-ticketing") && !value) {
			config->disable_ticketing = true;
		} else if (!value) {
			ok = false;
		} else if (!strcmp(key, "port")) {
			ok = parse_port(key, value, &config->port, error);
		} else if (!strcmp(key, "tls-port")) {
			ok = parse_port(key, value, &config->tls_port, error);
		} else if (!strcmp(key, "addr") && *value) {
			g_free(config->addr);
			config->addr = g_strdup(value);
		} else if (!strcmp(key, "x509-dir") && *value) {
			g_free(config->x509_dir);
			config->x509_dir = g_strdup(value);
		} else if (!strcmp(key, "password-file") && *value) {
			ok = read_password_file(value, &config->password, error);
		} else {
			ok = false;
		}
		if (!ok) {
			if (error && !*error)
				g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
					    "--spice: '%s' is not understood (port=N, addr=A, password-file=F, disable-ticketing, tls-port=M, x509-dir=D)",
					    *item);
			return false;
		}
	}
	if (!config->port && !config->tls_port) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "--spice: give a port, e.g. --spice port=5930,password-file=FILE");
		return false;
	}
	if (!!config->tls_port != !!config->x509_dir) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "--spice: tls-port and x509-dir go together (the directory holds ca-cert.pem, server-cert.pem and server-key.pem)");
		return false;
	}
	if (config->disable_ticketing && config->password) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "--spice: password-file and disable-ticketing contradict each other; choose one");
		return false;
	}
	return true;
}

/*
 * Whether addr:port can be listened on, with the reason if not:
 * spice-server only says that it failed, and errno after it is not its.
 */
static bool check_port(const char *addr, unsigned int port, GError **error)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *found = NULL;
	char service[8];
	int rc, err = 0;

	g_snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(addr, service, &hints, &found);
	if (rc != 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "--spice: addr=%s: %s", addr, gai_strerror(rc));
		return false;
	}
	for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		int one = 1;

		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0) {
			close(fd);
			freeaddrinfo(found);
			return true;
		}
		err = errno;
		close(fd);
	}
	freeaddrinfo(found);
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
		    "--spice: cannot listen on %s port %u: %s%s", addr, port, g_strerror(err),
		    err == EADDRINUSE ? " (another program uses it: choose another port=)" : "");
	return false;
}

/* --- the core interface on a GMainContext ----------------------------------- */

/*
 * spice-server's core callbacks carry no pointer back to us, so the context
 * they attach to is file-wide.  One SPICE server per process, as spice-server
 * itself assumes.
 */
static GMainContext *core_context;

struct SpiceTimer {
	SpiceTimerFunc func;
	void *opaque;
	GSource *source;
};

static gboolean timer_fired(gpointer data)
{
	SpiceTimer *timer = data;

	g_source_unref(timer->source);
	timer->source = NULL;
	timer->func(timer->opaque);
	return G_SOURCE_REMOVE;
}

static SpiceTimer *core_timer_add(SpiceTimerFunc func, void *opaque)
{
	SpiceTimer *timer = g_new0(SpiceTimer, 1);

	timer->func = func;
	timer->opaque = opaque;
	return timer;
}

static void core_timer_cancel(SpiceTimer *timer)
{
	if (timer->source) {
		g_source_destroy(timer->source);
		g_source_unref(timer->source);
		timer->source = NULL;
	}
}

static void core_timer_start(SpiceTimer *timer, uint32_t ms)
{
	core_timer_cancel(timer);
	timer->source = g_timeout_source_new(ms);
	g_source_set_callback(timer->source, timer_fired, timer, NULL);
	g_source_attach(timer->source, core_context);
}

static void core_timer_remove(SpiceTimer *timer)
{
	core_timer_cancel(timer);
	g_free(timer);
}

struct SpiceWatch {
	int fd;
	SpiceWatchFunc func;
	void *opaque;
	GSource *source;
};

static gboolean watch_ready(gint fd, GIOCondition condition, gpointer data)
{
	SpiceWatch *watch = data;
	int events = 0;

	if (condition & (G_IO_IN | G_IO_HUP | G_IO_ERR))
		events |= SPICE_WATCH_EVENT_READ;
	if (condition & G_IO_OUT)
		events |= SPICE_WATCH_EVENT_WRITE;
	watch->func(fd, events, watch->opaque);
	return G_SOURCE_CONTINUE;
}

static void watch_attach(SpiceWatch *watch, int event_mask)
{
	GIOCondition condition = 0;

	if (watch->source) {
		g_source_destroy(watch->source);
		g_source_unref(watch->source);
		watch->source = NULL;
	}
	if (event_mask & SPICE_WATCH_EVENT_READ)
		condition |= G_IO_IN;
	if (event_mask & SPICE_WATCH_EVENT_WRITE)
		condition |= G_IO_OUT;
	if (!condition)
		return;
	watch->source = g_unix_fd_source_new(watch->fd, condition);
	g_source_set_callback(watch->source, (GSourceFunc)(void (*)(void))watch_ready, watch, NULL);
	g_source_attach(watch->source, core_context);
}

static SpiceWatch *core_watch_add(int fd, int event_mask, SpiceWatchFunc func, void *opaque)
{
	SpiceWatch *watch = g_new0(SpiceWatch, 1);

	watch->fd = fd;
	watch->func = func;
	watch->opaque = opaque;
	watch_attach(watch, event_mask);
	return watch;
}

static void core_watch_update_mask(SpiceWatch *watch, int event_mask)
{
	watch_attach(watch, event_mask);
}

static void core_watch_remove(SpiceWatch *watch)
{
	watch_attach(watch, 0);
	g_free(watch);
}

static void core_channel_event(int event, SpiceChannelEventInfo *info)
{
	static const char *const events[] = { "", "connected", "initialized", "disconnected" };

	if (event >= 1 && event <= 3)
		log_debug("SPICE: channel %d:%d %s%s", info->type, info->id, events[event],
			  info->flags & SPICE_CHANNEL_EVENT_FLAG_TLS ? " (TLS)" : "");
}

static SpiceCoreInterface core_interface = {
	.base = {
		.type = SPICE_INTERFACE_CORE,
		.description = "vessel core",
		.major_version = SPICE_INTERFACE_CORE_MAJOR,
		.minor_version = SPICE_INTERFACE_CORE_MINOR,
	},
	.timer_add = core_timer_add,
	.timer_start = core_timer_start,
	.timer_cancel = core_timer_cancel,
	.timer_remove = core_timer_remove,
	.watch_add = core_watch_add,
	.watch_update_mask = core_watch_update_mask,
	.watch_remove = core_watch_remove,
	.channel_event = core_channel_event,
};

/* --- the server ----------------------------------------------------------- */

/* One changed rectangle on its way to spice-server's worker. */
struct spice_update {
	QXLDrawable drawable;
	QXLImage image;
	uint8_t *bits;			/* XRGB8888, top-down */
};

struct spice_display {
	SpiceServer *server;
	struct display *display;
	struct input *input;
	char *uri;

	QXLInstance qxl;
	SpiceKbdInstance kbd;
	SpiceMouseInstance mouse;

	/* Display: touched by the refresh (I/O thread) and spice's worker thread. */
	GMutex lock;
	GQueue queue;			/* struct spice_update *, not yet fetched */
	/*
	 * Fetched by spice-server and not released yet.  A display channel
	 * client torn down while it connects may never release what it
	 * holds; nothing touches these once the server is destroyed.
	 */
	GHashTable *lent;
	bool notify;			/* the worker asked to be woken for commands */
	bool primary;			/* a primary surface exists */
	struct display_surface surface;
	uint8_t *primary_mem;
	uint64_t unique;
	GSource *refresh;
	gint64 next_refresh_us;

	/* Inputs (I/O thread). */
	bool kbd_e0;
	unsigned int kbd_e1;		/* bytes left of a Pause sequence */
	uint32_t mouse_buttons;
	bool inputs_added;		/* spice-server holds state for them until removed */
};

static struct spice_display *from_qxl(QXLInstance *qin)
{
	return G_STRUCT_MEMBER_P(qin, -G_STRUCT_OFFSET(struct spice_display, qxl));
}

static void update_free(struct spice_update *u)
{
	g_free(u->bits);
	g_free(u);
}

/* The pixels of r as XRGB8888 in a new update (drawable + bitmap image). */
static struct spice_update *update_new(struct spice_display *s, const struct display_surface *surface,
				       const struct display_rect *r)
{
	struct spice_update *u = g_new0(struct spice_update, 1);
	uint32_t *out = g_new(uint32_t, (size_t)r->width * r->height);
	QXLDrawable *d = &u->drawable;

	u->bits = (uint8_t *)out;
	if (surface->format == DISPLAY_FORMAT_XRGB8888) {
		for (unsigned int y = 0; y < r->height; y++)
			memcpy(out + (size_t)y * r->width,
			       surface->pixels + (size_t)(r->y + y) * surface->stride_bytes + (size_t)r->x * 4,
			       (size_t)r->width * 4);
	} else {
		for (unsigned int y = 0; y < r->height; y++)
			for (unsigned int x = 0; x < r->width; x++)
				*out++ = display_surface_pixel(surface, r->x + x, r->y + y);
	}

	d->release_info.id = (uintptr_t)u;
	d->surface_id = 0;
	d->effect = QXL_EFFECT_OPAQUE;
	d->type = QXL_DRAW_COPY;
	d->bbox = (QXLRect){ .top = (int32_t)r->y, .left = (int32_t)r->x,
			     .bottom = (int32_t)(r->y + r->height), .right = (int32_t)(r->x + r->width) };
	d->clip.type = SPICE_CLIP_TYPE_NONE;
	d->mm_time = (uint32_t)(g_get_monotonic_time() / 1000);
	d->surfaces_dest[0] = d->surfaces_dest[1] = d->surfaces_dest[2] = -1;
	d->u.copy.src_bitmap = (uintptr_t)&u->image;
	d->u.copy.src_area = (QXLRect){ .top = 0, .left = 0, .bottom = (int32_t)r->height,
					.right = (int32_t)r->width };
	d->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;

	QXL_SET_IMAGE_ID(&u->image, QXL_IMAGE_GROUP_DEVICE, s->unique++);
	u->image.descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
	u->image.descriptor.width = r->width;
	u->image.descriptor.height = r->height;
	u->image.bitmap.format = SPICE_BITMAP_FMT_32BIT;
	u->image.bitmap.flags = QXL_BITMAP_DIRECT | QXL_BITMAP_TOP_DOWN;
	u->image.bitmap.x = r->width;
	u->image.bitmap.y = r->height;
	u->image.bitmap.stride = r->width * 4;
	u->image.bitmap.data = (uintptr_t)u->bits;
	return u;
}

static void queue_clear_locked(struct spice_display *s)
{
	struct spice_update *u;

	while ((u = g_queue_pop_head(&s->queue)))
		update_free(u);
}

/*
 * Called by the refresh (one at a time, as are mode changes), so the
 * primary surface cannot change under it; the lock only keeps the queue
 * from the worker, which is why the pixels are copied outside it.
 */
static void push_update(struct spice_display *s, const struct display_surface *surface,
			const struct display_rect *r)
{
	struct display_rect all = { 0, 0, surface->width, surface->height };
	struct spice_update *u;
	bool primary, wake;

	g_mutex_lock(&s->lock);
	primary = s->primary;
	/*
	 * A client (or the worker) that does not keep up: what waits is
	 * replaced by one update of the whole screen, so memory stays bounded
	 * and the picture is still right.
	 */
	if (primary && g_queue_get_length(&s->queue) >= QUEUE_MAX) {
		queue_clear_locked(s);
		r = &all;
	}
	g_mutex_unlock(&s->lock);
	if (!primary)
		return;
	u = update_new(s, surface, r);
	g_mutex_lock(&s->lock);
	g_queue_push_tail(&s->queue, u);
	wake = s->notify;
	s->notify = false;
	g_mutex_unlock(&s->lock);
	if (wake)
		spice_qxl_wakeup(&s->qxl);
}

/* New mode: the primary surface goes and (if there is a picture) comes back. */
static void on_mode_changed(void *opaque, const struct display_surface *surface)
{
	struct spice_display *s = opaque;
	QXLDevSurfaceCreate create = { 0 };
	bool had_primary;

	g_mutex_lock(&s->lock);
	queue_clear_locked(s);
	had_primary = s->primary;
	s->primary = false;
	g_mutex_unlock(&s->lock);
	/* Synchronous: returns once the worker dropped the old surface. */
	if (had_primary)
		spice_qxl_destroy_primary_surface(&s->qxl, 0);
	g_free(s->primary_mem);
	s->primary_mem = NULL;
	s->surface = *surface;
	if (surface->format == DISPLAY_FORMAT_NONE)
		return;

	/* spice-server's own copy of the screen, which new clients start from. */
	s->primary_mem = g_malloc0((size_t)surface->width * surface->height * 4);
	create.width = surface->width;
	create.height = surface->height;
	create.stride = -(int32_t)(surface->width * 4);
	create.format = SPICE_SURFACE_FMT_32_xRGB;
	create.mouse_mode = 1;
	create.mem = (uintptr_t)s->primary_mem;
	create.group_id = MEMSLOT_GROUP;
	spice_qxl_create_primary_surface(&s->qxl, 0, &create);
	g_mutex_lock(&s->lock);
	s->primary = true;
	g_mutex_unlock(&s->lock);
}

static void on_update(void *opaque, const struct display_surface *surface,
		      const struct display_rect *rect)
{
	push_update(opaque, surface, rect);
}

static const struct display_listener_ops listener_ops = {
	.mode_changed = on_mode_changed,
	.update = on_update,
};

/*
 * The refresh keeps its own schedule (a GSource woken at absolute times):
 * a GLib timeout counts its interval from the end of each callback, so the
 * time a refresh takes would stretch the period.
 */
static gboolean refresh_tick(gpointer data)
{
	struct spice_display *s = data;
	gint64 now = g_get_monotonic_time();

	s->next_refresh_us += REFRESH_MS * 1000;
	/* After a stall, carry on from now rather than catching up in a burst. */
	if (s->next_refresh_us < now)
		s->next_refresh_us = now + REFRESH_MS * 1000;
	g_source_set_ready_time(s->refresh, s->next_refresh_us);
	display_refresh(s->display);
	return G_SOURCE_CONTINUE;
}

static gboolean refresh_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
	return callback(data);
}

static GSourceFuncs refresh_source_funcs = { .dispatch = refresh_dispatch };

/* --- the QXL interface (called on spice-server's worker thread) ------------ */

static void qxl_attached_worker(QXLInstance *qin)
{
	/*
	 * One memory slot covering the whole address space with no offset:
	 * QXL "physical" addresses in our drawables are host pointers.
	 */
	QXLDevMemSlot slot = {
		.slot_group_id = MEMSLOT_GROUP, .slot_id = 0, .generation = 0,
		.virt_start = 0, .virt_end = ~(uintptr_t)0, .addr_delta = 0,
	};

	spice_qxl_add_memslot(qin, &slot);
}

static void qxl_set_compression_level(QXLInstance *qin, int level)
{
}

static void qxl_set_mm_time(QXLInstance *qin, uint32_t mm_time)
{
}

static void qxl_get_init_info(QXLInstance *qin, QXLDevInitInfo *info)
{
	memset(info, 0, sizeof(*info));
	info->num_memslots_groups = 1;
	info->num_memslots = 1;
	info->memslot_gen_bits = 8;
	info->memslot_id_bits = 8;
	info->internal_groupslot_id = 0;
	info->qxl_ram_size = 16 << 20;
	info->n_surfaces = 1;
}

static int qxl_get_command(QXLInstance *qin, struct QXLCommandExt *ext)
{
	struct spice_display *s = from_qxl(qin);
	struct spice_update *u;

	g_mutex_lock(&s->lock);
	u = g_queue_pop_head(&s->queue);
	if (u)
		g_hash_table_add(s->lent, u);
	g_mutex_unlock(&s->lock);
	if (!u)
		return 0;
	memset(ext, 0, sizeof(*ext));
	ext->cmd.type = QXL_CMD_DRAW;
	ext->cmd.data = (uintptr_t)&u->drawable;
	ext->group_id = MEMSLOT_GROUP;
	return 1;
}

static int qxl_req_cmd_notification(QXLInstance *qin)
{
	struct spice_display *s = from_qxl(qin);
	int wait;

	g_mutex_lock(&s->lock);
	wait = g_queue_is_empty(&s->queue);
	s->notify = wait;
	g_mutex_unlock(&s->lock);
	return wait;
}

static void qxl_release_resource(QXLInstance *qin, struct QXLReleaseInfoExt ext)
{
	struct spice_display *s = from_qxl(qin);
	struct spice_update *u = (struct spice_update *)(uintptr_t)ext.info->id;

	g_mutex_lock(&s->lock);
	g_hash_table_steal(s->lent, u);
	g_mutex_unlock(&s->lock);
	update_free(u);
}

/* No cursor: bochs-display has none; clients show their own pointer. */
static int qxl_get_cursor_command(QXLInstance *qin, struct QXLCommandExt *ext)
{
	return 0;
}

static int qxl_req_cursor_notification(QXLInstance *qin)
{
	return 1;
}

static void qxl_notify_update(QXLInstance *qin, uint32_t update_id)
{
}

static int qxl_flush_resources(QXLInstance *qin)
{
	return 0;
}

static void qxl_async_complete(QXLInstance *qin, uint64_t cookie)
{
}

static void qxl_update_area_complete(QXLInstance *qin, uint32_t surface_id,
				     struct QXLRect *updated_rects, uint32_t num_updated_rects)
{
}

static void qxl_set_client_capabilities(QXLInstance *qin, uint8_t client_present,
					uint8_t caps[SPICE_CAPABILITIES_SIZE])
{
}

static int qxl_client_monitors_config(QXLInstance *qin, VDAgentMonitorsConfig *monitors_config)
{
	return 0;
}

static const QXLInterface qxl_interface = {
	.base = {
		.type = SPICE_INTERFACE_QXL,
		.description = "vessel display",
		.major_version = SPICE_INTERFACE_QXL_MAJOR,
		.minor_version = SPICE_INTERFACE_QXL_MINOR,
	},
	.attached_worker = qxl_attached_worker,
	.set_compression_level = qxl_set_compression_level,
	.set_mm_time = qxl_set_mm_time,
	.get_init_info = qxl_get_init_info,
	.get_command = qxl_get_command,
	.req_cmd_notification = qxl_req_cmd_notification,
	.release_resource = qxl_release_resource,
	.get_cursor_command = qxl_get_cursor_command,
	.req_cursor_notification = qxl_req_cursor_notification,
	.notify_update = qxl_notify_update,
	.flush_resources = qxl_flush_resources,
	.async_complete = qxl_async_complete,
	.update_area_complete = qxl_update_area_complete,
	.set_client_capabilities = qxl_set_client_capabilities,
	.client_monitors_config = qxl_client_monitors_config,
};

/* --- inputs (I/O thread) --------------------------------------------------- */

/* Set 1 scan code bytes from the client, as a PC keyboard would send them. */
static void kbd_push_scan_freg(SpiceKbdInstance *sin, uint8_t byte)
{
	struct spice_display *s = G_STRUCT_MEMBER_P(sin, -G_STRUCT_OFFSET(struct spice_display, kbd));
	unsigned int code;

	if (s->kbd_e1) {
		/* Pause: E1 1D 45 E1 9D C5, a press and release in one. */
		if (--s->kbd_e1 == 0 && byte == 0x45) {
			input_key(s->input, KEY_PAUSE, true);
			input_key(s->input, KEY_PAUSE, false);
		}
		return;
	}
	if (byte == 0xe0) {
		s->kbd_e0 = true;
		return;
	}
	if (byte == 0xe1) {
		s->kbd_e1 = 2;
		return;
	}
	code = keymap_set1_to_evdev(s->kbd_e0, byte & 0x7f);
	/* E0 2A / E0 AA (fake shifts around some keys) map to nothing: dropped. */
	if (code)
		input_key(s->input, code, !(byte & 0x80));
	else
		log_debug("SPICE: no key for scan code %s%02x", s->kbd_e0 ? "e0 " : "", byte);
	s->kbd_e0 = false;
}

static uint8_t kbd_get_leds(SpiceKbdInstance *sin)
{
	struct spice_display *s = G_STRUCT_MEMBER_P(sin, -G_STRUCT_OFFSET(struct spice_display, kbd));

	/* INPUT_LED_* have SPICE's bit layout (scroll, num, caps). */
	return (uint8_t)input_get_leds(s->input);
}

static const SpiceKbdInterface kbd_interface = {
	.base = {
		.type = SPICE_INTERFACE_KEYBOARD,
		.description = "vessel keyboard",
		.major_version = SPICE_INTERFACE_KEYBOARD_MAJOR,
		.minor_version = SPICE_INTERFACE_KEYBOARD_MINOR,
	},
	.push_scan_freg = kbd_push_scan_freg,
	.get_leds = kbd_get_leds,
};

static void mouse_set_buttons(struct spice_display *s, uint32_t buttons)
{
	static const struct { uint32_t mask; unsigned int code; } map[] = {
		{ SPICE_MOUSE_BUTTON_MASK_LEFT, BTN_LEFT },
		{ SPICE_MOUSE_BUTTON_MASK_MIDDLE, BTN_MIDDLE },
		{ SPICE_MOUSE_BUTTON_MASK_RIGHT, BTN_RIGHT },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(map); i++)
		if ((buttons ^ s->mouse_buttons) & map[i].mask)
			input_button(s->input, map[i].code, buttons & map[i].mask);
	s->mouse_buttons = buttons;
}

static void mouse_motion(SpiceMouseInstance *sin, int dx, int dy, int dz, uint32_t buttons)
{
	struct spice_display *s = G_STRUCT_MEMBER_P(sin, -G_STRUCT_OFFSET(struct spice_display, mouse));

	/* SPICE's dz is negative for the wheel turned away from the user; ours is positive. */
	if (dx || dy || dz)
		input_motion(s->input, dx, dy, -dz);
	mouse_set_buttons(s, buttons);
}

static void mouse_buttons(SpiceMouseInstance *sin, uint32_t buttons)
{
	mouse_set_buttons(G_STRUCT_MEMBER_P(sin, -G_STRUCT_OFFSET(struct spice_display, mouse)), buttons);
}

static const SpiceMouseInterface mouse_interface = {
	.base = {
		.type = SPICE_INTERFACE_MOUSE,
		.description = "vessel mouse",
		.major_version = SPICE_INTERFACE_MOUSE_MAJOR,
		.minor_version = SPICE_INTERFACE_MOUSE_MINOR,
	},
	.motion = mouse_motion,
	.buttons = mouse_buttons,
};

/* The guest set its LEDs (a vCPU thread): tell clients from the I/O thread. */
struct led_change {
	struct spice_display *spice;
	unsigned int leds;
};

static gboolean send_leds(gpointer data)
{
	struct led_change *change = data;

	spice_server_kbd_leds(&change->spice->kbd, (int)change->leds);
	return G_SOURCE_REMOVE;
}

static void leds_changed(void *opaque, unsigned int leds)
{
	struct led_change *change = g_new(struct led_change, 1);

	change->spice = opaque;
	change->leds = leds;
	g_main_context_invoke_full(core_context, G_PRIORITY_DEFAULT, send_leds, change, g_free);
}

/* --- life cycle ------------------------------------------------------------ */

bool spice_display_set_password(struct spice_display *s, const char *password, GError **error)
{
	if (!password || !*password) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the SPICE password must not be empty");
		return false;
	}
	/* Lifetime 0: valid until changed; connected clients stay connected. */
	if (spice_server_set_ticket(s->server, password, 0, 0, 0) != 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "spice-server refused the new password");
		return false;
	}
	return true;
}

const char *spice_display_uri(struct spice_display *s)
{
	return s->uri;
}

struct spice_display *spice_display_new(const struct spice_display_config *config,
					struct display *display, struct input *input,
					GMainContext *context, GError **error)
{
	struct spice_display *s;
	const char *addr = config->addr ? config->addr : DEFAULT_ADDR;
	GString *uri;

	if (core_context) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "only one SPICE server per process");
		return NULL;
	}
	core_context = g_main_context_ref(context);
	s = g_new0(struct spice_display, 1);
	g_mutex_init(&s->lock);
	g_queue_init(&s->queue);
	s->lent = g_hash_table_new_full(NULL, NULL, (GDestroyNotify)update_free, NULL);
	s->display = display;
	s->input = input;
	s->server = spice_server_new();
	if (!s->server)
		goto fail_server;

	if ((config->port && !check_port(addr, config->port, error)) ||
	    (config->tls_port && !check_port(addr, config->tls_port, error)))
		goto fail;
	spice_server_set_addr(s->server, addr, 0);
	if (config->port)
		spice_server_set_port(s->server, (int)config->port);
	if (config->tls_port) {
		g_autofree char *ca = g_build_filename(config->x509_dir, "ca-cert.pem", NULL);
		g_autofree char *cert = g_build_filename(config->x509_dir, "server-cert.pem", NULL);
		g_autofree char *key = g_build_filename(config->x509_dir, "server-key.pem", NULL);

		for (const char *const *f = (const char *const[]){ ca, cert, key, NULL }; *f; f++) {
			if (!g_file_test(*f, G_FILE_TEST_IS_REGULAR)) {
				g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
					    "--spice: %s does not exist (x509-dir must hold ca-cert.pem, server-cert.pem and server-key.pem)",
					    *f);
				goto fail;
			}
		}
		if (spice_server_set_tls(s->server, (int)config->tls_port, ca, cert, key, NULL, NULL, NULL) != 0) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
				    "--spice: spice-server cannot use the certificates in %s", config->x509_dir);
			goto fail;
		}
	}
	if (config->disable_ticketing)
		spice_server_set_noauth(s->server);
	else if (config->password && spice_server_set_ticket(s->server, config->password, 0, 0, 0) != 0)
		goto fail_server;
	spice_server_set_name(s->server, config->name ? config->name : "Vessel");
	/* Lossless pictures: a desktop's text must stay sharp. */
	spice_server_set_image_compression(s->server, SPICE_IMAGE_COMPRESSION_AUTO_GLZ);
	spice_server_set_jpeg_compression(s->server, SPICE_WAN_COMPRESSION_NEVER);
	spice_server_set_zlib_glz_compression(s->server, SPICE_WAN_COMPRESSION_AUTO);
	if (spice_server_init(s->server, &core_interface) != 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "--spice: spice-server could not start listening on %s (see its messages above)", addr);
		goto fail;
	}

	s->qxl.base.sif = &qxl_interface.base;
	s->qxl.id = 0;
	s->kbd.base.sif = &kbd_interface.base;
	s->mouse.base.sif = &mouse_interface.base;
	if (spice_server_add_interface(s->server, &s->qxl.base) != 0)
		goto fail_server;
	s->inputs_added = spice_server_add_interface(s->server, &s->kbd.base) == 0 &&
			  spice_server_add_interface(s->server, &s->mouse.base) == 0;
	if (!s->inputs_added)
		goto fail_server;
	spice_server_vm_start(s->server);

	input_set_led_listener(input, leds_changed, s);
	display_add_listener(display, &listener_ops, s);
	s->refresh = g_source_new(&refresh_source_funcs, sizeof(GSource));
	s->next_refresh_us = g_get_monotonic_time() + REFRESH_MS * 1000;
	g_source_set_ready_time(s->refresh, s->next_refresh_us);
	g_source_set_callback(s->refresh, refresh_tick, s, NULL);
	g_source_attach(s->refresh, context);

	uri = g_string_new("spice://");
	g_string_append(uri, strchr(addr, ':') ? "[" : "");
	g_string_append(uri, addr);
	g_string_append(uri, strchr(addr, ':') ? "]" : "");
	if (config->port)
		g_string_append_printf(uri, ":%u", config->port);
	if (config->tls_port)
		g_string_append_printf(uri, "?tls-port=%u", config->tls_port);
	s->uri = g_string_free(uri, FALSE);
	return s;

fail_server:
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED, "--spice: spice-server failed to start");
fail:
	spice_display_free(s);
	return NULL;
}

void spice_display_free(struct spice_display *s)
{
	if (!s)
		return;
	if (s->refresh) {
		g_source_destroy(s->refresh);
		g_source_unref(s->refresh);
		display_remove_listener(s->display, &listener_ops, s);
		input_set_led_listener(s->input, NULL, NULL);
	}
	if (s->server)
		spice_server_destroy(s->server);
#if SPICE_SERVER_VERSION <= 0x000f01
	/*
	 * spice-server 0.15.1 allocates the keyboard's and mouse's state in
	 * spice_server_add_interface() (g_new0) and frees neither on removal
	 * nor on destroy; nothing refers to them once the server is gone.
	 */
	if (s->inputs_added) {
		g_free(s->kbd.st);
		g_free(s->mouse.st);
	}
#endif
	g_mutex_lock(&s->lock);
	queue_clear_locked(s);
	g_mutex_unlock(&s->lock);
	/* What the destroyed server never released: ours again. */
	g_hash_table_destroy(s->lent);
	g_free(s->primary_mem);
	g_free(s->uri);
	g_mutex_clear(&s->lock);
	g_free(s);
	g_main_context_unref(core_context);
	core_context = NULL;
}
