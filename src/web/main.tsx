import { StrictMode, useMemo } from 'react';
import { createRoot } from 'react-dom/client';
import { Api, loadConfig, type WebConfig } from './api';
import { useCart } from './cart';
import { Checkout } from './pages/Checkout';
import { Cluster } from './pages/Cluster';
import { Order } from './pages/Order';
import { Shop } from './pages/Shop';
import { useRoute } from './router';
import { useStock } from './stock';
import './styles.css';

function App({ config }: { config: WebConfig }) {
  const api = useMemo(() => new Api(config), [config]);
  const cart = useCart();
  // Prices and stock, live: polled while the app is open, and at once when its window regains focus.
  const stock = useStock(api);
  const route = useRoute();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <a href="#/" className="brand">
          Causeway Books
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={route.page === 'shop' ? 'page' : undefined}>
            Shop
          </a>
          <a href="#/checkout" aria-current={route.page === 'checkout' ? 'page' : undefined}>
            Cart <span className="badge" aria-label={`${cart.count} items`}>{cart.count}</span>
          </a>
          <a href="#/cluster" aria-current={route.page === 'cluster' ? 'page' : undefined}>
            Cluster
          </a>
        </nav>
      </header>
      <main id="main">
        {route.page === 'shop' && <Shop api={api} cart={cart} stock={stock} />}
        {route.page === 'checkout' && <Checkout api={api} cart={cart} stock={stock} />}
        {route.page === 'order' && <Order key={route.orderId} api={api} orderId={route.orderId} />}
        {route.page === 'cluster' && <Cluster api={api} />}
      </main>
      <footer>
        Causeway: a distributed bookstore you can watch. Traces in <a href={config.jaegerUrl}>Jaeger</a>.
      </footer>
    </>
  );
}

void loadConfig().then((config) => {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App config={config} />
    </StrictMode>,
  );
});
