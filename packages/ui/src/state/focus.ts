import { type RefObject, useEffect } from "react";

/** After a failed submit: the first field in error is scrolled into view and focused. */
export function revealFirstError(form: HTMLFormElement | null): void {
  // The issues render on the next frame; look for them then.
  requestAnimationFrame(() => {
    const field = form?.querySelector<HTMLElement>('[aria-invalid="true"]');
    const message = form?.querySelector<HTMLElement>(".field-error, .error-text");
    (field ?? message)?.scrollIntoView({ block: "center" });
    field?.focus({ preventScroll: true });
  });
}

/**
 * When what had the focus went away (a closed dialog, a Start or Cancel button that is gone), the
 * focus goes to `target` rather than to the page's body, whenever `moment` changes.
 */
export function useFocusRescue(target: RefObject<HTMLElement | null>, moment: string): void {
  // biome-ignore lint/correctness/useExhaustiveDependencies: `moment` says when to look
  useEffect(() => {
    const id = requestAnimationFrame(() => {
      const active = document.activeElement;
      if (!active || active === document.body) target.current?.focus({ preventScroll: true });
    });
    return () => cancelAnimationFrame(id);
  }, [moment]);
}
