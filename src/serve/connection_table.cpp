#include "serve/connection_table.h"

namespace kvmscope::serve {

ConnectionTable::ConnectionTable(std::size_t max_total, std::size_t max_per_client)
    : max_total_(max_total ? max_total : 1), max_per_client_(max_per_client ? max_per_client : 1) {}

ConnectionTable::Decision ConnectionTable::admit(Id id, const ClientAddress& client, bool trusted,
                                                 std::int64_t now_ns) {
  Decision d;
  auto own = clients_.find(client);
  if (own != clients_.end() && own->second.count >= max_per_client_) {
    if (own->second.idle.empty()) return d;
    drop(own->second.idle.begin()->second, d);  // frees a place in the whole table too
  } else if (entries_.size() >= max_total_) {
    const std::set<Age>* from = !idle_[0].empty()              ? &idle_[0]
                                : trusted && !idle_[1].empty() ? &idle_[1]
                                                               : nullptr;
    if (!from) return d;
    drop(from->begin()->second, d);
  }
  entries_[id] = Entry{client, trusted, false, now_ns};
  Client& c = clients_[client];
  ++c.count;
  c.idle.insert({now_ns, id});
  idle_[trusted].insert({now_ns, id});
  d.admitted = true;
  return d;
}

void ConnectionTable::unlist_idle(Id id, const Entry& e) {
  if (e.busy) return;
  idle_[e.trusted].erase({e.idle_since, id});
  if (auto c = clients_.find(e.client); c != clients_.end())
    c->second.idle.erase({e.idle_since, id});
}

void ConnectionTable::busy(Id id) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.busy) return;
  unlist_idle(id, it->second);
  it->second.busy = true;
}

void ConnectionTable::idle(Id id, std::int64_t now_ns) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  unlist_idle(id, e);
  e.busy = false;
  e.idle_since = now_ns;
  idle_[e.trusted].insert({now_ns, id});
  clients_[e.client].idle.insert({now_ns, id});
}

void ConnectionTable::remove(Id id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  unlist_idle(id, it->second);
  auto c = clients_.find(it->second.client);
  if (c != clients_.end() && --c->second.count == 0) clients_.erase(c);
  entries_.erase(it);
}

void ConnectionTable::drop(Id id, Decision& decision) {
  remove(id);
  decision.shed.push_back(id);
}

std::size_t ConnectionTable::of_client(const ClientAddress& client) const {
  auto c = clients_.find(client);
  return c == clients_.end() ? 0 : c->second.count;
}

}  // namespace kvmscope::serve
