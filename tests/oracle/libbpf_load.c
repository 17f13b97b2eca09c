/* Oracle driver for tests/test_libbpf_oracle.py: load a BPF object with the
 * system libbpf and pin what loaded.
 *
 *   libbpf_load OBJ PINDIR [PROG]
 *
 * Without PROG every program is loaded (as `bpftool prog loadall` does); with
 * PROG only that one (autoload is turned off for the others), so one program
 * the kernel rejects does not hide the others. Each loaded program is pinned
 * at PINDIR/<program name>. stdout: "loaded NAME" lines, or "error CODE"
 * when the object failed; libbpf's own messages go to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	char path[4096];
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJ PINDIR [PROG]\n", argv[0]);
		return 64;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("error %d open\n", -errno);
		return 1;
	}
	if (argc > 3) {
		int found = 0;
		bpf_object__for_each_program(prog, obj) {
			int mine = strcmp(bpf_program__name(prog), argv[3]) == 0;
			found |= mine;
			bpf_program__set_autoload(prog, mine);
		}
		if (!found) {
			printf("error %d no such program\n", -ENOENT);
			return 1;
		}
	}
	err = bpf_object__load(obj);
	if (err) {
		printf("error %d load\n", err);
		bpf_object__close(obj);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog) || bpf_program__fd(prog) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[2], bpf_program__name(prog));
		err = bpf_program__pin(prog, path);
		if (err)
			printf("pin-error %d %s\n", err, bpf_program__name(prog));
		else
			printf("loaded %s\n", bpf_program__name(prog));
	}
	bpf_object__close(obj);
	return 0;
}
