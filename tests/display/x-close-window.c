/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x-close-window WINDOW-ID: asks an X window to close the way a window
 * manager's close button does — a WM_PROTOCOLS client message carrying
 * WM_DELETE_WINDOW (ICCCM §4.2.8.1).  Xvfb has no window manager, so the
 * tests send it themselves.
 */
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	Display *display;
	XEvent event = { 0 };
	Window window;
	char *end;

	if (argc != 2 || !(window = strtoul(argv[1], &end, 0)) || *end) {
		fprintf(stderr, "usage: %s WINDOW-ID\n", argv[0]);
		return 2;
	}
	display = XOpenDisplay(NULL);
	if (!display) {
		fprintf(stderr, "%s: cannot open the X display\n", argv[0]);
		return 1;
	}
	event.xclient.type = ClientMessage;
	event.xclient.window = window;
	event.xclient.message_type = XInternAtom(display, "WM_PROTOCOLS", False);
	event.xclient.format = 32;
	event.xclient.data.l[0] = (long)XInternAtom(display, "WM_DELETE_WINDOW", False);
	event.xclient.data.l[1] = CurrentTime;
	if (!XSendEvent(display, window, False, NoEventMask, &event)) {
		fprintf(stderr, "%s: XSendEvent failed\n", argv[0]);
		XCloseDisplay(display);
		return 1;
	}
	XCloseDisplay(display);
	return 0;
}
