// The interface that turns a request's credentials into a FactoryContext. The production
// implementation verifies the access token and loads the caller's current role, permissions
// and active flag from the metadata store, so a change takes effect on the next request.
// Implementations are thread-safe and outlive the router that uses them.
#pragma once

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
};

}  // namespace factoryops::auth
