import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { acknowledgeAlert, COMMENT_MAX, resolveAlert } from '../api/alerts';
import type { Alert } from '../api/types';
import { DialogFooter } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { FormError, TextField } from '../components/Form';
import { alertKeys, patchCachedAlert } from '../hooks/useAlertFeed';

export type AlertAction = 'acknowledge' | 'resolve';

const texts: Record<AlertAction, { title: string; label: string; pending: string; why: string }> = {
  acknowledge: {
    title: 'Acknowledge alert',
    label: 'Acknowledge',
    pending: 'Acknowledging…',
    why: 'Tells everyone that somebody is on it. The alert stays open until the condition clears or it is resolved.',
  },
  resolve: {
    title: 'Resolve alert',
    label: 'Resolve',
    pending: 'Resolving…',
    why: 'Closes the alert by hand. If the condition still holds, the rule fires again after its full duration.',
  },
};

/** Acknowledge or resolve one alert, with an optional comment kept with the alert. */
export function AlertActionDialog({
  alert,
  action,
  onClose,
}: {
  alert: Alert;
  action: AlertAction;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const [comment, setComment] = useState('');
  const mutation = useMutation({
    mutationFn: () =>
      action === 'acknowledge'
        ? acknowledgeAlert(alert.id, comment)
        : resolveAlert(alert.id, comment),
    onSuccess: (updated) => {
      patchCachedAlert(queryClient, updated);
      void queryClient.invalidateQueries({ queryKey: alertKeys.all });
      onClose();
    },
    onError: (error) => {
      // 409: somebody else got there first; show what the alert is now.
      if (error.status === 409) void queryClient.invalidateQueries({ queryKey: alertKeys.all });
    },
  });
  const tooLong = [...comment].length > COMMENT_MAX;
  const t = texts[action];

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!tooLong) mutation.mutate();
  }

  return (
    <Dialog title={t.title} onClose={onClose}>
      <form noValidate onSubmit={submit} className="space-y-3">
        <p className="text-sm text-slate-700">
          <strong>{alert.rule_name}</strong> on <span className="font-mono">{alert.device_id}</span>
          . {t.why}
        </p>
        <TextField
          name="comment"
          label="Comment (optional)"
          multiline
          value={comment}
          onChange={setComment}
          hint={`${[...comment].length} / ${COMMENT_MAX} characters.`}
          error={tooLong ? `Use at most ${COMMENT_MAX} characters.` : undefined}
        />
        <FormError error={mutation.error} />
        <DialogFooter
          onCancel={onClose}
          label={t.label}
          pendingLabel={t.pending}
          isPending={mutation.isPending}
          disabled={tooLong}
        />
      </form>
    </Dialog>
  );
}

/** The Acknowledge and Resolve buttons an alert's state allows. */
export function AlertActionButtons({
  alert,
  onAction,
  className,
  compact = false,
}: {
  alert: Alert;
  onAction: (action: AlertAction) => void;
  className: string;
  compact?: boolean;
}) {
  const suffix = compact ? ` alert ${alert.id}` : '';
  return (
    <>
      {alert.status === 'open' ? (
        <button
          type="button"
          className={className}
          aria-label={compact ? `Acknowledge${suffix}` : undefined}
          onClick={() => onAction('acknowledge')}
        >
          Acknowledge
        </button>
      ) : null}
      {alert.status !== 'resolved' ? (
        <button
          type="button"
          className={className}
          aria-label={compact ? `Resolve${suffix}` : undefined}
          onClick={() => onAction('resolve')}
        >
          Resolve
        </button>
      ) : null}
    </>
  );
}
