// HTTP routes of the job runtime's dead letters (docs/jobs.md): list, re-queue and delete the
// caller's factory's failed jobs; super admin only (Action::manage_factory).
#pragma once

#include "auth/authenticator.hpp"
#include "http/router.hpp"
#include "queue/dead_letter_service.hpp"

namespace factoryops::api {

// The router keeps references: `authenticator` and `dead_letters` must outlive it.
void register_job_routes(http::Router& router, const auth::Authenticator& authenticator,
                         queue::DeadLetterService& dead_letters);

}  // namespace factoryops::api
