// The interface that turns a request's credentials into a FactoryContext. The production
// implementation verifies the access token and loads the caller's current role, permissions
// and active flag from the metadata store, so a change takes effect on the next request.
// Implementations are thread-safe and outlive the router that uses them.
#pragma once

#include <optional>

#include "auth/context.hpp"

namespace factoryops::http {
struct Request;
}

namespace factoryops::auth {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Throws core::Unauthorized when the request carries no valid credentials.
  virtual FactoryContext authenticate(const http::Request& request) const = 0;
  // The same without any I/O (for the network threads): nullopt when the answer would need the
  // metadata store; throws core::Unauthorized as authenticate() does for a bad token.
  virtual std::optional<FactoryContext> authenticate_from_memory(const http::Request& /*request*/) const {
    return std::nullopt;
  }
};

}  // namespace factoryops::auth
