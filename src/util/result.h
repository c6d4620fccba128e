// Result<T>: a value or an Error that carries errno and the context it happened in.
// Used instead of exceptions at every boundary that touches the OS, so the CLI can
// print one clear line and exit non-zero (never a stack trace).
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace kvmscope::util {

struct Error {
  int err = 0;          // errno value, 0 when the failure is not an OS error
  std::string context;  // what we were doing, e.g. "open /dev/kvm"
  std::string hint;     // optional: what the user can do about it

  // "open /dev/kvm: Permission denied (run as root)"
  std::string message() const;
};

// `err` is the errno of the failing call, captured by the caller right after it (`const int err =
// errno;`): building the context string, or any other work, may change errno.
Error os_error(std::string context, int err, std::string hint = {});
Error plain_error(std::string context, std::string hint = {});

// E is Error but where a failure must carry more (e.g. the exit status it ends the command with).
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_;
  bool ok_ = true;
};

}  // namespace kvmscope::util
