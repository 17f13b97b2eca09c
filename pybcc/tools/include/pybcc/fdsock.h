/* The socket behind one of the current task's file descriptors, by a CO-RE
 * walk task -> files -> fdt -> fd[n] -> file -> socket -> sock (tcpaccept,
 * bindsnoop: the syscall tracepoints give an fd, not a socket). */
#ifndef __PYBCC_FDSOCK_H
#define __PYBCC_FDSOCK_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/inet.h>

static __always_inline struct sock *fd_sock(long fd)
{
    struct task_struct *task = (void *)bpf_get_current_task();
    struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
    struct file *file = NULL;
    struct socket *sock;

    if (fd < 0 || fd >= BPF_CORE_READ(task, files, fdt, max_fds))
        return NULL;
    bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
    if (!file)
        return NULL;
    /* only a socket's file has a socket in private_data */
    if ((BPF_CORE_READ(file, f_inode, i_mode) & 0170000) != 0140000)   /* S_IFSOCK */
        return NULL;
    sock = BPF_CORE_READ(file, private_data);
    return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* The TCP (IPv4/IPv6) socket behind fd, its family in *af; NULL when there is none. */
static __always_inline struct sock *fd_tcp_sock(long fd, u16 *af)
{
    struct sock *sk = fd_sock(fd);

    *af = sk ? tcp_sock_family(sk) : 0;
    return *af ? sk : NULL;
}

#endif
