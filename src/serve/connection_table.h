// Which connections `kvmscope serve` keeps when clients crowd it: a pure bookkeeping of the
// open connections (no sockets here), so the policy is tested exactly.
//
// A connection is idle from its accept, and again from the end of each answer, until a whole
// request has arrived; then it is busy until its answer is out. Busy connections are never
// shed: they are about to be done. When a new connection comes:
//   - its client (IP address) already holds max_per_client: that client's oldest idle
//     connection is shed for it; with none idle, the new one is refused;
//   - else the table holds max_total: the oldest idle connection of an untrusted client is shed
//     for it; a trusted newcomer (loopback, a configured scraper) may also shed the oldest idle
//     trusted one; with nothing to shed, the new one is refused.
// So 140 clients that connect and stall fill the table but never keep a scraper out: its
// connection takes the place of the longest-stalled one, and no untrusted newcomer can take its
// place in turn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "serve/client_address.h"

namespace kvmscope::serve {

class ConnectionTable {
 public:
  using Id = std::uint64_t;
  struct Decision {
    bool admitted = false;
    std::vector<Id> shed;  // connections to close for it (already out of the table)
  };

  ConnectionTable(std::size_t max_total, std::size_t max_per_client);

  Decision admit(Id id, const ClientAddress& client, bool trusted, std::int64_t now_ns);
  void busy(Id id);                       // a whole request arrived
  void idle(Id id, std::int64_t now_ns);  // its answer is out: idle from now
  void remove(Id id);                     // closed (an unknown id is ignored)

  std::size_t size() const { return entries_.size(); }
  std::size_t of_client(const ClientAddress& client) const;
  bool contains(Id id) const { return entries_.count(id) != 0; }

 private:
  using Age = std::pair<std::int64_t, Id>;  // (idle since, id): oldest first
  struct Entry {
    ClientAddress client;
    bool trusted = false;
    bool busy = false;
    std::int64_t idle_since = 0;
  };
  struct Client {
    std::size_t count = 0;
    std::set<Age> idle;
  };

  void drop(Id id, Decision& decision);
  void unlist_idle(Id id, const Entry& e);

  std::size_t max_total_, max_per_client_;
  std::unordered_map<Id, Entry> entries_;
  std::map<ClientAddress, Client> clients_;
  std::set<Age> idle_[2];  // [trusted]
};

}  // namespace kvmscope::serve
