/* placeholder */
#include "lib/test.h"
const char guest_name[] = "serial";
int main(void) { return 1; }
