'use client';
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

export function ErrorText({ error }: { error: string | undefined }): ReactNode {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {error}
    </p>
  );
}

export function Loading({ loading }: { loading: boolean }): ReactNode {
  return loading ? <p aria-live="polite">Loading…</p> : null;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }): ReactNode {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={() => {
        navigator.clipboard?.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

/** A modal dialog (the native <dialog>: focus trapped, Escape closes). */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

/** A button that asks once more before acting. */
export function ConfirmButton({ label, confirmLabel, onConfirm, children, danger = true }: { label: string; confirmLabel: string; onConfirm: () => Promise<void>; children?: ReactNode; danger?: boolean }): ReactNode {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <>
      <button type="button" className={danger ? 'danger' : ''} onClick={() => setOpen(true)}>
        {label}
      </button>
      <Dialog open={open} title={`${label}?`} onClose={() => setOpen(false)}>
        {children}
        <ErrorText error={error} />
        <div className="row">
          <button
            type="button"
            className={danger ? 'danger' : 'primary'}
            disabled={busy}
            onClick={() => {
              setBusy(true);
              setError(undefined);
              onConfirm().then(
                () => {
                  setBusy(false);
                  setOpen(false);
                },
                (err: unknown) => {
                  setBusy(false);
                  setError((err as Error).message);
                },
              );
            }}
          >
            {confirmLabel}
          </button>
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}

export function Json({ value }: { value: unknown }): ReactNode {
  if (value === undefined || value === null) return <span className="muted">—</span>;
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function time(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}
