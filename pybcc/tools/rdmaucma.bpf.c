// rdmaucma: each event the RDMA user-space connection manager (rdma_ucm)
// hands to its user-space side, with the CM id's local and remote address.
// ucma_event_handler() is in the rdma_ucm module; its types are in the
// modules' BTF, not vmlinux's, so the few fields read are declared here as
// CO-RE flavours and relocated onto the module's layout at load time.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include <pybcc/tool.h>
#include <pybcc/inet.h>

enum rdma_cm_event_type___pybcc { RDMA_CM_EVENT_ADDR_RESOLVED___pybcc };

/* cm_id->route.addr: the rdma_route and rdma_addr members read, nested */
struct rdma_cm_id___pybcc {
    struct {
        struct {
            struct sockaddr_in6 src_addr;   /* sockaddr_storage in the kernel */
            struct sockaddr_in6 dst_addr;
        } addr;
    } route;
} __attribute__((preserve_access_index));

struct rdma_cm_event___pybcc {
    enum rdma_cm_event_type___pybcc event;
} __attribute__((preserve_access_index));

struct event {
    INET_ENDPOINTS;
    u32 event;
};
PYBCC_RECORD(event);

/* One endpoint: its port (host order) and address (IPv4 in the first 4 bytes). */
static __always_inline void endpoint(struct sockaddr_in6 *sa, u16 af, u16 *port, u8 *addr)
{
    struct sockaddr_in6 copy = {};

    bpf_probe_read_kernel(&copy, sizeof(copy), sa);
    *port = bpf_ntohs(copy.sin6_port);
    if (af == PYBCC_AF_INET)
        __builtin_memcpy(addr, &((struct sockaddr_in *)&copy)->sin_addr, 4);
    else
        __builtin_memcpy(addr, &copy.sin6_addr, 16);
}

static __always_inline int trace_event(void *ctx, struct rdma_cm_id___pybcc *id,
                                       struct rdma_cm_event___pybcc *cm_event)
{
    struct event e = {};
    struct sockaddr_in6 *src = __builtin_preserve_access_index(&id->route.addr.src_addr);
    struct sockaddr_in6 *dst = __builtin_preserve_access_index(&id->route.addr.dst_addr);

    e.af = BPF_CORE_READ(src, sin6_family);
    if (e.af != PYBCC_AF_INET && e.af != PYBCC_AF_INET6)
        return 0;       /* bcc reports IPv4 and IPv6 ids only (not AF_IB) */
    endpoint(src, e.af, &e.lport, e.saddr);
    endpoint(dst, e.af, &e.dport, e.daddr);
    e.event = BPF_CORE_READ(cm_event, event);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

SEC("fentry/ucma_event_handler")
int BPF_PROG(ucma_event_fentry, struct rdma_cm_id___pybcc *id, struct rdma_cm_event___pybcc *ev)
{
    return trace_event(ctx, id, ev);
}

SEC("kprobe/ucma_event_handler")
int BPF_KPROBE(ucma_event_kprobe, struct rdma_cm_id___pybcc *id, struct rdma_cm_event___pybcc *ev)
{
    return trace_event(ctx, id, ev);
}

char LICENSE[] SEC("license") = "GPL";
