import type { ReactNode } from 'react';
import type { ApiError } from '../api/errors';
import { Dialog } from './Dialog';
import { buttonClass, FormError } from './Form';

type Tone = 'primary' | 'danger';

interface DialogFooterProps {
  onCancel: () => void;
  /** The action button's label, and the label shown while the action runs. */
  label: string;
  pendingLabel: string;
  isPending: boolean;
  tone?: Tone;
  /** Without `onAction` the action button submits the surrounding form. */
  onAction?: () => void;
  /** Disables the action button in addition to while it is pending. */
  disabled?: boolean;
  /** Adds space above the footer when it does not sit in a spaced form. */
  spaced?: boolean;
}

/** A dialog's Cancel button and its action button, which shows a pending label while it runs. */
export function DialogFooter({
  onCancel,
  label,
  pendingLabel,
  isPending,
  tone = 'primary',
  onAction,
  disabled = false,
  spaced = false,
}: DialogFooterProps) {
  return (
    <div className={spaced ? 'mt-4 flex justify-end gap-2' : 'flex justify-end gap-2'}>
      <button type="button" className={buttonClass.secondary} onClick={onCancel}>
        Cancel
      </button>
      <button
        type={onAction ? 'button' : 'submit'}
        className={buttonClass[tone]}
        disabled={disabled || isPending}
        onClick={onAction}
      >
        {isPending ? pendingLabel : label}
      </button>
    </div>
  );
}

interface ConfirmDialogProps {
  title: string;
  /** The message explaining what confirming does. */
  children: ReactNode;
  confirmLabel: string;
  pendingLabel: string;
  tone?: Tone;
  onConfirm: () => void;
  isPending: boolean;
  error: ApiError | null;
  /** Shows the error differently from the standard form error. */
  renderError?: (error: ApiError | null) => ReactNode;
  disabled?: boolean;
  onClose: () => void;
}

/** A dialog asking to confirm one action, with the action's error shown under the message. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  pendingLabel,
  tone = 'primary',
  onConfirm,
  isPending,
  error,
  renderError,
  disabled,
  onClose,
}: ConfirmDialogProps) {
  return (
    <Dialog title={title} onClose={onClose}>
      {children}
      <div className="mt-3">{renderError ? renderError(error) : <FormError error={error} />}</div>
      <DialogFooter
        onCancel={onClose}
        label={confirmLabel}
        pendingLabel={pendingLabel}
        isPending={isPending}
        tone={tone}
        onAction={onConfirm}
        disabled={disabled}
        spaced
      />
    </Dialog>
  );
}
