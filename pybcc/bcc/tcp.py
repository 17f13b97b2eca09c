"""bcc.tcp: TCP state names and header flag names, as tools print them."""

# include/net/tcp_states.h
tcpstate = {
    1: "ESTABLISHED",
    2: "SYN_SENT",
    3: "SYN_RECV",
    4: "FIN_WAIT1",
    5: "FIN_WAIT2",
    6: "TIME_WAIT",
    7: "CLOSE",
    8: "CLOSE_WAIT",
    9: "LAST_ACK",
    10: "LISTEN",
    11: "CLOSING",
    12: "NEW_SYN_RECV",
}

# include/net/tcp.h
TCPHDR_FIN = 0x01
TCPHDR_SYN = 0x02
TCPHDR_RST = 0x04
TCPHDR_PSH = 0x08
TCPHDR_ACK = 0x10
TCPHDR_URG = 0x20
TCPHDR_ECE = 0x40
TCPHDR_CWR = 0x80

_FLAG_NAMES = [(TCPHDR_FIN, "FIN"), (TCPHDR_SYN, "SYN"), (TCPHDR_RST, "RST"),
               (TCPHDR_PSH, "PSH"), (TCPHDR_ACK, "ACK"), (TCPHDR_URG, "URG"),
               (TCPHDR_ECE, "ECE"), (TCPHDR_CWR, "CWR")]


def flags2str(flags):
    """"SYN|ACK" for the set TCP header flags."""
    return "|".join(name for bit, name in _FLAG_NAMES if flags & bit)


def state2str(state):
    """"ESTABLISHED" for 1; unknown states as their number."""
    return tcpstate.get(state, str(state))
