/**
 * One labelled control of a form: the label above its input or select, tied by `id` (the label
 * names the control for screen readers and for tests that find fields by label). The id is given
 * once, here, and set on the control.
 *
 * @example
 * <Field id="key-name" label="Name">
 *   <input name="displayName" required />
 * </Field>
 */
import { cloneElement, type ReactElement, type ReactNode } from 'react';

export function Field({ id, label, children }: { id: string; label: string; children: ReactElement<{ id?: string }> }): ReactNode {
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id })}
    </div>
  );
}
