import { useCallback, useMemo, useState } from 'react';

export interface CartLine {
  name: string;
  quantity: number;
}

export interface Cart {
  lines: CartLine[];
  count: number;
  add(name: string): void;
  setQuantity(name: string, quantity: number): void;
  quantityOf(name: string): number;
  clear(): void;
}

export function useCart(): Cart {
  const [lines, setLines] = useState<CartLine[]>([]);
  const add = useCallback(
    (name: string) =>
      setLines((ls) => (ls.some((l) => l.name === name) ? ls.map((l) => (l.name === name ? { ...l, quantity: l.quantity + 1 } : l)) : [...ls, { name, quantity: 1 }])),
    [],
  );
  const setQuantity = useCallback(
    (name: string, quantity: number) =>
      setLines((ls) => (quantity <= 0 ? ls.filter((l) => l.name !== name) : ls.map((l) => (l.name === name ? { ...l, quantity } : l)))),
    [],
  );
  return useMemo(
    () => ({
      lines,
      count: lines.reduce((n, l) => n + l.quantity, 0),
      add,
      setQuantity,
      quantityOf: (name: string) => lines.find((l) => l.name === name)?.quantity ?? 0,
      clear: () => setLines([]),
    }),
    [lines, add, setQuantity],
  );
}
