// Invitation emails through the notifications role: the invite route queues a `notify.invitation`
// job and the notifications worker sends it over the email channel, with the job runtime's
// retries. An invitation accepted, replaced or expired before its turn is not mailed. Each attempt
// is written to the factory's audit log. Thread-safe; the Database, JobQueue and Channels must
// outlive the mailer.
#pragma once

#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "db/database.hpp"
#include "notify/channels.hpp"
#include "queue/job_queue.hpp"

namespace factoryops::users {

inline constexpr std::string_view kInvitationTask = "notify.invitation";

// What the invite route tells its caller about the email.
enum class InvitationEmail {
  queued,          // on the notifications queue
  not_configured,  // no SMTP server: the link is the only way
  not_queued,      // the queue refused it (logged): the link is the only way
};

std::string_view invitation_email_name(InvitationEmail state);

class InvitationMailer {
 public:
  InvitationMailer(db::Database& database, queue::JobQueue& jobs, const notify::Channels& channels)
      : database_(database), jobs_(jobs), channels_(channels) {}

  // Called by the invite route once the invitation is committed. The token travels in the
  // job's payload until the email is sent (it is stored nowhere else: only its digest).
  InvitationEmail enqueue(const core::FactoryId& factory, std::string_view request_id,
                          std::int64_t invitation_id, std::string_view token);

  // The handler of `notify.invitation` jobs. core::Invalid for a malformed job (dead-lettered at
  // once); core::Unavailable when sending failed but may succeed later (the job is retried).
  void handle(const queue::Job& job);

 private:
  db::Database& database_;
  queue::JobQueue& jobs_;
  const notify::Channels& channels_;
};

}  // namespace factoryops::users
