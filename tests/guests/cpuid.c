/* placeholder */
#include "lib/test.h"
const char guest_name[] = "cpuid";
int main(void) { return 1; }
