/* bcc's packet headers (<bcc/proto.h>), written for pybcc from the layout
 * bcc documents: each struct is one protocol header in network byte order,
 * packed bit by bit, the first declared bit being the most significant bit of
 * the first byte. A program walks the packet with a cursor:
 *
 *     u8 *cursor = 0;
 *     struct ip_t *ip = cursor_advance(cursor, sizeof(*ip));
 *     if (ip->nextp == 17) ...          // -> bpf_dext_pkt(skb, ip + 9, 0, 8)
 *     ip->ttl = 1;                      // -> bpf_dins_pkt(skb, ip + 8, 0, 8, 1)
 *
 * The pointers hold packet offsets, not addresses: the front end
 * (pybcc/bcc/dialect/packets.py) turns each field read into bpf_dext_pkt
 * and each store into bpf_dins_pkt, with the field's byte offset, bit offset
 * and width, computed from these declarations. A program may declare its
 * own header the same way, ending it with BPF_PACKET_HEADER. */
#ifndef __PYBCC_BCC_PROTO_H
#define __PYBCC_BCC_PROTO_H

#ifndef BPF_PACKET_HEADER
#define BPF_PACKET_HEADER __attribute__((packed))
#endif

/* Ethernet II: 14 bytes. */
struct ethernet_t {
	unsigned long long dst:48;
	unsigned long long src:48;
	unsigned int type:16;
} BPF_PACKET_HEADER;

/* 802.1Q tag that follows the MAC addresses: 4 bytes. */
struct dot1q_t {
	unsigned short pri:3;
	unsigned short cfi:1;
	unsigned short vlanid:12;
	unsigned short type;
} BPF_PACKET_HEADER;

/* ARP for IPv4 over Ethernet: 28 bytes. */
struct arp_t {
	unsigned short htype;
	unsigned short ptype;
	unsigned char hlen;
	unsigned char plen;
	unsigned short oper;
	unsigned long long sha:48;
	unsigned long long spa:32;
	unsigned long long tha:48;
	unsigned int tpa;
} BPF_PACKET_HEADER;

/* IPv4 without options: 20 bytes. */
struct ip_t {
	unsigned char ver:4;
	unsigned char hlen:4;
	unsigned char tos;
	unsigned short tlen;
	unsigned short identification;
	unsigned short ffo_unused:1;
	unsigned short df:1;
	unsigned short mf:1;
	unsigned short foffset:13;
	unsigned char ttl;
	unsigned char nextp;
	unsigned short hchecksum;
	unsigned int src;
	unsigned int dst;
} BPF_PACKET_HEADER;

struct icmp_t {
	unsigned char type;
	unsigned char code;
	unsigned short checksum;
} BPF_PACKET_HEADER;

/* IPv6 fixed header: 40 bytes, addresses as two 64-bit halves. */
struct ip6_t {
	unsigned int ver:4;
	unsigned int priority:8;
	unsigned int flow_label:20;
	unsigned short payload_len;
	unsigned char next_header;
	unsigned char hop_limit;
	unsigned long long src_hi;
	unsigned long long src_lo;
	unsigned long long dst_hi;
	unsigned long long dst_lo;
} BPF_PACKET_HEADER;

/* IPv6 extension header's first 8 bytes. */
struct ip6_opt_t {
	unsigned char next_header;
	unsigned char ext_len;
	unsigned char pad[6];
} BPF_PACKET_HEADER;

struct icmp6_t {
	unsigned char type;
	unsigned char code;
	unsigned short checksum;
} BPF_PACKET_HEADER;

struct udp_t {
	unsigned short sport;
	unsigned short dport;
	unsigned short length;
	unsigned short crc;
} BPF_PACKET_HEADER;

/* TCP without options: 20 bytes. */
struct tcp_t {
	unsigned short src_port;
	unsigned short dst_port;
	unsigned int seq_num;
	unsigned int ack_num;
	unsigned char offset:4;
	unsigned char reserved:4;
	unsigned char flag_cwr:1;
	unsigned char flag_ece:1;
	unsigned char flag_urg:1;
	unsigned char flag_ack:1;
	unsigned char flag_psh:1;
	unsigned char flag_rst:1;
	unsigned char flag_syn:1;
	unsigned char flag_fin:1;
	unsigned short rcv_wnd;
	unsigned short cksum;
	unsigned short urg_ptr;
} BPF_PACKET_HEADER;

/* VXLAN: 8 bytes. */
struct vxlan_t {
	unsigned int rsv1:4;
	unsigned int iflag:1;
	unsigned int rsv2:3;
	unsigned int rsv3:24;
	unsigned int key:24;
	unsigned int rsv4:8;
} BPF_PACKET_HEADER;

/* VXLAN with the group-based policy extension: 8 bytes. */
struct vxlan_gbp_t {
	unsigned int gflag:1;
	unsigned int rsv1:3;
	unsigned int iflag:1;
	unsigned int rsv2:3;
	unsigned int rsv3:1;
	unsigned int dflag:1;
	unsigned int rsv4:1;
	unsigned int aflag:1;
	unsigned int rsv5:3;
	unsigned int tag:16;
	unsigned int key:24;
	unsigned int rsv6:8;
} BPF_PACKET_HEADER;

_Static_assert(sizeof(struct ethernet_t) == 14 && sizeof(struct dot1q_t) == 4 &&
	       sizeof(struct arp_t) == 28 && sizeof(struct ip_t) == 20 &&
	       sizeof(struct ip6_t) == 40 && sizeof(struct udp_t) == 8 &&
	       sizeof(struct tcp_t) == 20 && sizeof(struct vxlan_t) == 8 &&
	       sizeof(struct vxlan_gbp_t) == 8, "packet headers are packed bit by bit");

_Static_assert(sizeof(struct ethernet_t) == 14 && sizeof(struct dot1q_t) == 4 &&
	       sizeof(struct arp_t) == 28 && sizeof(struct ip_t) == 20 &&
	       sizeof(struct ip6_t) == 40 && sizeof(struct udp_t) == 8 &&
	       sizeof(struct tcp_t) == 20 && sizeof(struct vxlan_t) == 8 &&
	       sizeof(struct vxlan_gbp_t) == 8, "packet headers are packed bit by bit");

#endif
