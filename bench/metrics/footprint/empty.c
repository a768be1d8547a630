/* empty.c: the `footprint` group's native baseline: the start-up code and an empty main. */
int main(void) { return 0; }
