/* pybcc's bcc-dialect header: what bcc programs expect from bcc's helpers.h
 * and the kernel headers they include, built on the kernel's BTF (vmlinux.h)
 * and pybcc's libbpf-style headers. The front end includes it first and
 * drops the program's own <linux/...>, <net/...>, <uapi/...>, <bcc/...>
 * includes. Written for pybcc. */
#ifndef __PYBCC_BCC_H
#define __PYBCC_BCC_H

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* Sparse annotations of kernel sources: meaningless here. */
#define __user
#define __kernel
#define __force
#define __iomem
#define __rcu
#define __percpu
#define __bitwise
#define __must_check
#define __maybe_unused __attribute__((unused))

#ifndef NULL
#define NULL ((void *)0)
#endif

/* One implicit kernel read, inserted by the front end where a program
 * dereferences kernel memory (bcc's "magic" probe reads). */
#define _PYBCC_READ(e) ({ __typeof__(e) __pybcc_v; \
	bpf_probe_read_kernel((void *)&__pybcc_v, sizeof(__pybcc_v), (const void *)&(e)); __pybcc_v; })

#define _PYBCC_READ_USER(e) ({ __typeof__(e) __pybcc_v; \
	bpf_probe_read_user((void *)&__pybcc_v, sizeof(__pybcc_v), (const void *)&(e)); __pybcc_v; })

#define _PYBCC_READ_BF(s, field) BPF_CORE_READ_BITFIELD_PROBED(s, field)

/* bcc's bpf_trace_printk(fmt, ...): the format is a literal, kept on the stack
 * (as bcc does) so programs need no .rodata. */
#define __pybcc_trace_printk(fmt, ...) ({ char ____fmt[] = fmt; \
	bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__); })

/* Tracepoint __data_loc fields (bcc's names). */
#define TP_DATA_LOC_READ_CONST(dst, field, length) do { \
	unsigned short __offset = args->data_loc_##field & 0xFFFF; \
	bpf_probe_read_kernel((void *)(dst), (length), (char *)args + __offset); \
	} while (0)
#define TP_DATA_LOC_READ(dst, field) do { \
	unsigned short __offset = args->data_loc_##field & 0xFFFF; \
	unsigned short __length = args->data_loc_##field >> 16; \
	bpf_probe_read_kernel((void *)(dst), __length, (char *)args + __offset); \
	} while (0)
#define TP_DATA_LOC_READ_STR(dst, field, length) do { \
	unsigned short __offset = args->data_loc_##field & 0xFFFF; \
	bpf_probe_read_kernel_str((void *)(dst), (length), (char *)args + __offset); \
	} while (0)

/* bcc helpers that are not BPF helpers. */
#define lock_xadd(ptr, val) ((void)__sync_fetch_and_add(ptr, val))
#define bpf_probe_read_kernel_str_safe bpf_probe_read_kernel_str

static __always_inline unsigned int bpf_log2(unsigned int v)
{
	unsigned int r, shift;
	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline unsigned int bpf_log2l(unsigned long v)
{
	unsigned int hi = v >> 32;
	if (hi)
		return bpf_log2(hi) + 32 + 1;
	else
		return bpf_log2(v) + 1;
}

/* Packet loads, bit-field extract/insert, checksum updates, cursor_advance. */
#include "pybcc_packet.h"

#define bpf_get_current_task_btf_or_legacy() ((struct task_struct *)bpf_get_current_task())

/* Kernel macros BTF does not carry. */
#ifndef TASK_COMM_LEN
#define TASK_COMM_LEN 16
#endif
#define TASK_RUNNING 0x0000
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define __TASK_STOPPED 0x0004
#define __TASK_TRACED 0x0008
#define EXIT_DEAD 0x0010
#define EXIT_ZOMBIE 0x0020
#define EXIT_TRACE (EXIT_ZOMBIE | EXIT_DEAD)
#define TASK_PARKED 0x0040
#define TASK_DEAD 0x0080
#define TASK_WAKEKILL 0x0100
#define TASK_WAKING 0x0200
#define TASK_NOLOAD 0x0400
#define TASK_NEW 0x0800
#define TASK_KILLABLE (TASK_WAKEKILL | TASK_UNINTERRUPTIBLE)
#define TASK_STOPPED (TASK_WAKEKILL | __TASK_STOPPED)
#define TASK_TRACED __TASK_TRACED
#define TASK_IDLE (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)
#define TASK_REPORT_MAX 0x100
#define PF_IDLE 0x00000002
#define PF_EXITING 0x00000004
#define PF_VCPU 0x00000010
#define PF_WQ_WORKER 0x00000020
#define PF_FORKNOEXEC 0x00000040
#define PF_SUPERPRIV 0x00000100
#define PF_DUMPCORE 0x00000200
#define PF_SIGNALED 0x00000400
#define PF_MEMALLOC 0x00000800
#define PF_NPROC_EXCEEDED 0x00001000
#define PF_KTHREAD 0x00200000
#define PF_RANDOMIZE 0x00400000

#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_PIDFD 0x00001000
#define CLONE_PTRACE 0x00002000
#define CLONE_VFORK 0x00004000
#define CLONE_PARENT 0x00008000
#define CLONE_THREAD 0x00010000
#define CLONE_NEWNS 0x00020000
#define CLONE_SYSVSEM 0x00040000
#define CLONE_SETTLS 0x00080000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000

#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_LOCAL 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define AF_PACKET 17
#define AF_XDP 44
#define PF_INET AF_INET
#define PF_INET6 AF_INET6
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41
#define IPPROTO_ICMPV6 58
#define IPPROTO_SCTP 132
#define IPPROTO_RAW 255
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_IPV6 0x86DD
#define ETH_P_ALL 0x0003
#define IFNAMSIZ 16
#define INET_ADDRSTRLEN 16
#define INET6_ADDRSTRLEN 48
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_OK 0
#define TC_ACT_RECLASSIFY 1
#define TC_ACT_SHOT 2
#define TC_ACT_PIPE 3
#define TC_ACT_STOLEN 4
#define TC_ACT_REDIRECT 7

#define O_ACCMODE 00000003
#define O_RDONLY 00000000
#define O_WRONLY 00000001
#define O_RDWR 00000002
#define O_CREAT 00000100
#define O_EXCL 00000200
#define O_NOCTTY 00000400
#define O_TRUNC 00001000
#define O_APPEND 00002000
#define O_NONBLOCK 00004000
#define O_DSYNC 00010000
#define FASYNC 00020000
#define O_DIRECT 00040000
#define O_LARGEFILE 00100000
#define O_DIRECTORY 00200000
#define O_NOFOLLOW 00400000
#define O_NOATIME 01000000
#define O_CLOEXEC 02000000
#define __O_SYNC 04000000
#define O_SYNC (__O_SYNC | O_DSYNC)
#define O_PATH 010000000
#define __O_TMPFILE 020000000
#define O_TMPFILE (__O_TMPFILE | O_DIRECTORY)
#define AT_FDCWD (-100)
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define S_ISBLK(m) (((m) & S_IFMT) == S_IFBLK)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
#define S_ISSOCK(m) (((m) & S_IFMT) == S_IFSOCK)

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define EWOULDBLOCK EAGAIN
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENOTTY 25
#define EFBIG 27
#define ENOSPC 28
#define ESPIPE 29
#define EROFS 30
#define EMLINK 31
#define EPIPE 32
#define ERANGE 34
#define EDEADLK 35
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ENOTEMPTY 39
#define ELOOP 40
#define ENODATA 61
#define EPROTO 71
#define EOVERFLOW 75
#define EPROTONOSUPPORT 93
#define EOPNOTSUPP 95
#define ENOTSUP EOPNOTSUPP
#define EAFNOSUPPORT 97
#define EADDRINUSE 98
#define EADDRNOTAVAIL 99
#define ENETDOWN 100
#define ENETUNREACH 101
#define ECONNABORTED 103
#define ECONNRESET 104
#define ENOBUFS 105
#define EISCONN 106
#define ENOTCONN 107
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTUNREACH 113
#define EALREADY 114
#define EINPROGRESS 115
#define ECANCELED 125
#define ENOTSUPP 524
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_USEC 1000ULL
#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL
#define MSEC_PER_SEC 1000ULL
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PERF_MAX_STACK_DEPTH 127
/* bcc's "this CPU" for perf_submit/perf_read (bcc's helpers.h; BPF_F_CURRENT_CPU since 4.8) */
#ifndef CUR_CPU_IDENTIFIER
#define CUR_CPU_IDENTIFIER BPF_F_CURRENT_CPU
#endif
#define BPF_MAX_STACK_DEPTH 127
#define MINORBITS 20
#define MINORMASK ((1U << MINORBITS) - 1)
#define MAJOR(dev) ((unsigned int)((dev) >> MINORBITS))
#define MINOR(dev) ((unsigned int)((dev) & MINORMASK))
#define MKDEV(ma, mi) (((ma) << MINORBITS) | (mi))
#define DISK_NAME_LEN 32
#define NAME_MAX 255
#define PATH_MAX 4096
#define XATTR_NAME_MAX 255
#define XATTR_SIZE_MAX 65536
#define ARG_MAX 131072

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val) (*(volatile __typeof__(x) *)&(x) = (val))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1UL << (n))
#define sizeof_field(TYPE, MEMBER) sizeof((((TYPE *)0)->MEMBER))

#define ntohs(x) bpf_ntohs(x)
#define htons(x) bpf_htons(x)
#define ntohl(x) bpf_ntohl(x)
#define htonl(x) bpf_htonl(x)
#define be16_to_cpu(x) bpf_ntohs(x)
#define be32_to_cpu(x) bpf_ntohl(x)
#define be64_to_cpu(x) bpf_be64_to_cpu(x)
#define cpu_to_be16(x) bpf_htons(x)
#define cpu_to_be32(x) bpf_htonl(x)
#define cpu_to_be64(x) bpf_cpu_to_be64(x)

/* More kernel macros bcc's tools use (surveyed from bcc's tools and examples). */
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define min(x, y) ({ __typeof__(x) __pybcc_min_a = (x); __typeof__(y) __pybcc_min_b = (y); \
	__pybcc_min_a < __pybcc_min_b ? __pybcc_min_a : __pybcc_min_b; })
#define max(x, y) ({ __typeof__(x) __pybcc_max_a = (x); __typeof__(y) __pybcc_max_b = (y); \
	__pybcc_max_a > __pybcc_max_b ? __pybcc_max_a : __pybcc_max_b; })
#define min_t(type, x, y) ({ type __pybcc_x = (x); type __pybcc_y = (y); \
	__pybcc_x < __pybcc_y ? __pybcc_x : __pybcc_y; })
#define max_t(type, x, y) ({ type __pybcc_x = (x); type __pybcc_y = (y); \
	__pybcc_x > __pybcc_y ? __pybcc_x : __pybcc_y; })
#define clamp_t(type, v, lo, hi) min_t(type, max_t(type, v, lo), hi)
#define clamp(v, lo, hi) clamp_t(__typeof__(v), v, lo, hi)
#define div_u64(dividend, divisor) ((u64)(dividend) / (u32)(divisor))
#define div64_u64(dividend, divisor) ((u64)(dividend) / (u64)(divisor))
#define REQ_OP_BITS 8
#define REQ_OP_MASK ((1 << REQ_OP_BITS) - 1)
#define PAGE_ALLOC_COSTLY_ORDER 3
#define READ 0
#define WRITE 1
#define FMODE_CREATED 0x100000
#define SCM_RIGHTS 0x01
#define SOL_IP 0
#define SOL_SOCKET 1
#define SOL_TCP 6
#define SO_REUSEADDR 2
#define SO_REUSEPORT 15
#define SO_BINDTODEVICE 25
#define IP_FREEBIND 15
#define IP_TRANSPARENT 19
#define IP_BIND_ADDRESS_NO_PORT 24
#define CAP_CHOWN 0
#define CAP_DAC_OVERRIDE 1
#define CAP_KILL 5
#define CAP_SETUID 7
#define CAP_NET_BIND_SERVICE 10
#define CAP_NET_ADMIN 12
#define CAP_NET_RAW 13
#define CAP_SYS_PTRACE 19
#define CAP_SYS_ADMIN 21
#define CAP_SYS_RESOURCE 24
#define CAP_BPF 39
#define CAP_PERFMON 38
#define CAP_OPT_NONE 0x0
#define CAP_OPT_NOAUDIT 0x2
#define CAP_OPT_INSETID 0x4

/* Accessors that are inline functions in kernel headers. */
#define inet_sk(sk) ((struct inet_sock *)(sk))
#define inet_csk(sk) ((struct inet_connection_sock *)(sk))
#define tcp_sk(sk) ((struct tcp_sock *)(sk))
#define udp_sk(sk) ((struct udp_sock *)(sk))
#define inet_twsk(sk) ((struct inet_timewait_sock *)(sk))
#define inet_rsk(sk) ((struct inet_request_sock *)(sk))
#define TCP_SKB_CB(skb) ((struct tcp_skb_cb *)&((skb)->cb[0]))
static __always_inline unsigned char *skb_network_header(const struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header);
}
static __always_inline unsigned char *skb_transport_header(const struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, transport_header);
}
static __always_inline bool skb_rx_queue_recorded(const struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, queue_mapping) != 0;
}
static __always_inline u16 skb_get_rx_queue(const struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, queue_mapping) - 1;
}
/* include/linux/scatterlist.h: the low bits of page_link mark a chain link
 * and the last entry (virtiostat walks a scatterlist with them). */
#define SG_CHAIN 0x01UL
#define SG_END 0x02UL
#define SG_PAGE_LINK_MASK (SG_CHAIN | SG_END)
static __always_inline bool sg_is_chain(struct scatterlist *sg)
{
	return BPF_CORE_READ(sg, page_link) & SG_CHAIN;
}
static __always_inline bool sg_is_last(struct scatterlist *sg)
{
	return BPF_CORE_READ(sg, page_link) & SG_END;
}
static __always_inline struct scatterlist *sg_chain_ptr(struct scatterlist *sg)
{
	return (struct scatterlist *)(BPF_CORE_READ(sg, page_link) & ~SG_PAGE_LINK_MASK);
}
#define ip_hdr(skb) ((struct iphdr *)skb_network_header(skb))
#define ipv6_hdr(skb) ((struct ipv6hdr *)skb_network_header(skb))
#define tcp_hdr(skb) ((struct tcphdr *)skb_transport_header(skb))
#define udp_hdr(skb) ((struct udphdr *)skb_transport_header(skb))

/* Type names the kernel headers define as macros. */
#define sockaddr_storage __kernel_sockaddr_storage

/* Member aliases the kernel headers define as macros (include/net/sock.h,
 * inet_sock.h): sk->sk_state is sk->__sk_common.skc_state. */
#define sk_node __sk_common.skc_node
#define sk_nulls_node __sk_common.skc_nulls_node
#define sk_refcnt __sk_common.skc_refcnt
#define sk_tx_queue_mapping __sk_common.skc_tx_queue_mapping
#define sk_hash __sk_common.skc_hash
#define sk_portpair __sk_common.skc_portpair
#define sk_num __sk_common.skc_num
#define sk_dport __sk_common.skc_dport
#define sk_addrpair __sk_common.skc_addrpair
#define sk_daddr __sk_common.skc_daddr
#define sk_rcv_saddr __sk_common.skc_rcv_saddr
#define sk_family __sk_common.skc_family
#define sk_state __sk_common.skc_state
#define sk_bound_dev_if __sk_common.skc_bound_dev_if
#define sk_bind_node __sk_common.skc_bind_node
#define sk_prot __sk_common.skc_prot
#define sk_net __sk_common.skc_net
#define sk_v6_daddr __sk_common.skc_v6_daddr
#define sk_v6_rcv_saddr __sk_common.skc_v6_rcv_saddr
#define sk_cookie __sk_common.skc_cookie
#define sk_flags __sk_common.skc_flags
#define sk_rxhash __sk_common.skc_rxhash
#define inet_daddr sk.__sk_common.skc_daddr
#define inet_rcv_saddr sk.__sk_common.skc_rcv_saddr
#define inet_dport sk.__sk_common.skc_dport
#define inet_num sk.__sk_common.skc_num
#define ir_loc_addr req.__req_common.skc_rcv_saddr
#define ir_rmt_addr req.__req_common.skc_daddr
#define ir_num req.__req_common.skc_num
#define ir_rmt_port req.__req_common.skc_dport
#define ir_v6_rmt_addr req.__req_common.skc_v6_daddr
#define ir_v6_loc_addr req.__req_common.skc_v6_rcv_saddr
#define ir_iif req.__req_common.skc_bound_dev_if
#define tw_family __tw_common.skc_family
#define tw_state __tw_common.skc_state
#define tw_daddr __tw_common.skc_daddr
#define tw_rcv_saddr __tw_common.skc_rcv_saddr
#define tw_dport __tw_common.skc_dport
#define tw_num __tw_common.skc_num

/* Register reads of kprobe programs. pybcc compiles a program a second time
 * for kernels without kprobes: with __PYBCC_SYSCALL_TP its kprobes on
 * syscall functions run on syscalls:sys_enter_NAME / sys_exit_NAME, whose
 * records hold the arguments (and the return value) at offset 16; with
 * __PYBCC_RAW_TP its kprobes run on a raw tracepoint that carries the
 * function's own arguments (pybcc.bcc.fallbacks lists the pairs). */
#if defined(__PYBCC_SYSCALL_TP) || defined(__PYBCC_RAW_TP)
#ifdef __PYBCC_SYSCALL_TP
#define __PYBCC_ARG(x, n) (((const unsigned long *)(x))[1 + (n)])
#else
#define __PYBCC_ARG(x, n) (((const unsigned long *)(x))[(n) - 1])
#endif
#undef PT_REGS_PARM1
#undef PT_REGS_PARM2
#undef PT_REGS_PARM3
#undef PT_REGS_PARM4
#undef PT_REGS_PARM5
#undef PT_REGS_PARM6
#undef PT_REGS_RC
#undef PT_REGS_PARM1_CORE
#undef PT_REGS_PARM2_CORE
#undef PT_REGS_PARM3_CORE
#undef PT_REGS_PARM4_CORE
#undef PT_REGS_PARM5_CORE
#undef PT_REGS_PARM6_CORE
#undef PT_REGS_RC_CORE
#define PT_REGS_PARM1(x) __PYBCC_ARG(x, 1)
#define PT_REGS_PARM2(x) __PYBCC_ARG(x, 2)
#define PT_REGS_PARM3(x) __PYBCC_ARG(x, 3)
#define PT_REGS_PARM4(x) __PYBCC_ARG(x, 4)
#define PT_REGS_PARM5(x) __PYBCC_ARG(x, 5)
#define PT_REGS_PARM6(x) __PYBCC_ARG(x, 6)
#define PT_REGS_PARM1_CORE(x) __PYBCC_ARG(x, 1)
#define PT_REGS_PARM2_CORE(x) __PYBCC_ARG(x, 2)
#define PT_REGS_PARM3_CORE(x) __PYBCC_ARG(x, 3)
#define PT_REGS_PARM4_CORE(x) __PYBCC_ARG(x, 4)
#define PT_REGS_PARM5_CORE(x) __PYBCC_ARG(x, 5)
#define PT_REGS_PARM6_CORE(x) __PYBCC_ARG(x, 6)
/* sys_exit_NAME: long ret at offset 16 */
#define PT_REGS_RC(x) (((const long *)(x))[2])
#define PT_REGS_RC_CORE(x) PT_REGS_RC(x)
#define __PYBCC_SYSCALL_REGS(ctx) ((struct pt_regs *)(ctx))
#define __PYBCC_SYSCALL_ARG(n, regs) PT_REGS_PARM##n(regs)
/* A tracepoint's record has no instruction, stack or frame pointer (and the
 * kernel refuses a program that reads past the record): they read as 0. */
#undef PT_REGS_IP
#undef PT_REGS_SP
#undef PT_REGS_FP
#undef PT_REGS_IP_CORE
#undef PT_REGS_SP_CORE
#undef PT_REGS_FP_CORE
#define PT_REGS_IP(x) ((void)(x), 0UL)
#define PT_REGS_SP(x) ((void)(x), 0UL)
#define PT_REGS_FP(x) ((void)(x), 0UL)
#define PT_REGS_IP_CORE(x) PT_REGS_IP(x)
#define PT_REGS_SP_CORE(x) PT_REGS_SP(x)
#define PT_REGS_FP_CORE(x) PT_REGS_FP(x)
#else
/* A syscall function's own argument is the user's registers. */
#define __PYBCC_SYSCALL_REGS(ctx) ((struct pt_regs *)PT_REGS_PARM1(ctx))
#define __PYBCC_SYSCALL_ARG(n, regs) PT_REGS_PARM##n##_CORE_SYSCALL(regs)
#endif

#endif /* __PYBCC_BCC_H */
