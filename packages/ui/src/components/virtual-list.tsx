import { type ReactNode, useEffect, useLayoutEffect, useRef, useState } from "react";

const OVERSCAN = 8;

/**
 * A list of fixed-height rows of which only those in view (and a few more) are in the DOM, so that
 * 100,000 rows cost what 40 do. Rows are `<li>`s with their position announced (aria-posinset).
 * With `follow`, the list stays scrolled to the bottom while the reader is there.
 */
export function VirtualList<T>({
  items,
  count = items.length,
  rowHeight,
  renderRow,
  rowKey,
  label,
  className,
  follow = false,
  ordered = false,
  scrollTo = null,
}: {
  items: readonly T[];
  /** How many of `items` to show (a growing array may be shared and longer). */
  count?: number;
  rowHeight: number;
  renderRow: (item: T, index: number) => ReactNode;
  rowKey: (item: T, index: number) => string | number;
  label: string;
  className?: string;
  follow?: boolean;
  ordered?: boolean;
  /** An index to bring into view when it changes. */
  scrollTo?: number | null;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const atBottom = useRef(true);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight || 600 });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when rows are added
  useLayoutEffect(() => {
    const el = box.current;
    if (el && follow && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [count, follow]);

  useEffect(() => {
    const el = box.current;
    if (!el || scrollTo === null || scrollTo < 0) return;
    const top = scrollTo * rowHeight;
    if (top < el.scrollTop || top + rowHeight > el.scrollTop + el.clientHeight)
      el.scrollTop = Math.max(0, top - el.clientHeight / 2);
  }, [scrollTo, rowHeight]);

  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i] as T;
    rows.push(
      <li
        key={rowKey(item, i)}
        className="vrow"
        aria-posinset={i + 1}
        aria-setsize={count}
        style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight }}
      >
        {renderRow(item, i)}
      </li>,
    );
  }
  const List = ordered ? "ol" : "ul";
  return (
    <div
      ref={box}
      className={`vlist ${className ?? ""}`}
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < rowHeight;
        setView({ top: el.scrollTop, height: el.clientHeight || 600 });
      }}
    >
      <List aria-label={label} style={{ height: count * rowHeight }}>
        {rows}
      </List>
    </div>
  );
}
