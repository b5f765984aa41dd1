/* placeholder */
#include "lib/test.h"
const char guest_name[] = "demo";
int main(void) { return 1; }
