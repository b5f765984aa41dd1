/* placeholder */
#include "lib/test.h"
const char guest_name[] = "cmos";
int main(void) { return 1; }
