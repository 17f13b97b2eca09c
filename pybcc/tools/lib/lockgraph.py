"""The lock-order graph of deadlock: mutexes as nodes, "B taken while A was
held" as the edge A -> B, and the search for a cycle in it (a lock
inversion, i.e. a potential deadlock)."""


class LockGraph:
    def __init__(self):
        self.next = {}          # node -> set of nodes
        self.attrs = {}         # (node, node) -> dict

    def add_edge(self, a, b, **attrs):
        self.next.setdefault(a, set()).add(b)
        self.next.setdefault(b, set())
        self.attrs[(a, b)] = attrs

    @property
    def nodes(self):
        return list(self.next)

    @property
    def edges(self):
        return list(self.attrs)

    def find_cycle(self):
        """[(a1, a2), (a2, a3), ..., (an, a1)] for one cycle, or [].
        Depth-first search, in address order so that the answer is stable;
        a cycle shows as an edge back to a node still on the search path."""
        on_path, done = {}, set()
        for root in sorted(self.next):
            if root in done:
                continue
            path = [root]
            on_path[root] = 0
            todo = [iter(sorted(self.next[root]))]
            while todo:
                nxt = next(todo[-1], None)
                if nxt is None:
                    node = path.pop()
                    del on_path[node]
                    done.add(node)
                    todo.pop()
                    continue
                if nxt in on_path:
                    cycle = path[on_path[nxt]:] + [nxt]
                    return list(zip(cycle, cycle[1:]))
                if nxt in done:
                    continue
                on_path[nxt] = len(path)
                path.append(nxt)
                todo.append(iter(sorted(self.next[nxt])))
        return []

    def node_link_data(self):
        """The graph in networkx's node-link form (bcc's --dump-graph file)."""
        number = {n: i for i, n in enumerate(self.next)}
        links = [dict(attrs, source=number[a], target=number[b])
                 for (a, b), attrs in self.attrs.items()]
        return {"directed": True, "multigraph": False, "graph": {}, "links": links,
                "nodes": [{"id": n} for n in self.next]}
