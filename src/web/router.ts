import { useEffect, useState } from 'react';

/** Hash routes: #/, #/checkout, #/orders/<id>, #/cluster. Works from any static server, no rewrites needed. */
export type Route = { page: 'shop' } | { page: 'checkout' } | { page: 'order'; orderId: string } | { page: 'cluster' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const order = /^\/orders\/([^/]+)$/.exec(path);
  if (order) return { page: 'order', orderId: decodeURIComponent(order[1]) };
  if (path === '/checkout') return { page: 'checkout' };
  if (path === '/cluster') return { page: 'cluster' };
  return { page: 'shop' };
}

export function navigate(path: string): void {
  window.location.hash = path;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => {
      setRoute(parseRoute(window.location.hash));
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
