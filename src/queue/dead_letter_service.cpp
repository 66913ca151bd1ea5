#include "queue/dead_letter_service.hpp"

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/audit_repository.hpp"

namespace factoryops::queue {
namespace {

core::NotFound not_found(std::string_view id) {
  return core::NotFound("dead letter '" + std::string(id.substr(0, 64)) + "' not found");
}

}  // namespace

std::vector<DeadJob> DeadLetterService::list(const auth::FactoryContext& context, std::string_view queue,
                                             std::size_t limit) {
  context.require(auth::Action::manage_factory);
  if (!queue.empty()) core::validate_slug("queue", queue);
  if (limit < 1 || limit > kMaxDeadLetterPage) {
    throw core::Invalid("limit", "must be from 1 to " + std::to_string(kMaxDeadLetterPage));
  }
  return queue_.dead_letters(DeadLetterQuery{context.factory_id, std::string(queue), limit});
}

void DeadLetterService::requeue(const auth::FactoryContext& context, std::string_view id) {
  context.require(auth::Action::manage_factory);
  if (!queue_.requeue_dead(context.factory_id, id)) throw not_found(id);
  audit(context, "job.requeued", id);
}

void DeadLetterService::remove(const auth::FactoryContext& context, std::string_view id) {
  context.require(auth::Action::manage_factory);
  if (!queue_.delete_dead(context.factory_id, id)) throw not_found(id);
  audit(context, "job.deleted", id);
}

void DeadLetterService::audit(const auth::FactoryContext& context, std::string action, std::string_view id) {
  // The job may live in Redis, so the entry cannot share its transaction; it is written right
  // after the change it describes.
  db::AuditEntry entry;
  if (context.user_id > 0) entry.user_id = context.user_id;
  entry.action = std::move(action);
  entry.resource_type = "job";
  entry.resource_id = std::string(id);
  if (!context.request_id.empty()) entry.request_id = context.request_id;
  if (!context.ip.empty()) entry.ip = context.ip;
  auto conn = database_.acquire();
  db::AuditRepository::record(*conn, context.factory_id, entry);
}

}  // namespace factoryops::queue
