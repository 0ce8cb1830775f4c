-- Basket members beyond UserEvent.PairedProductsPerBasket (the first that many distinct products to join a basket)
-- form no co-purchase pairs; they still count as basket members. Existing rows were all paired when they joined.
-- Constant defaults: both columns are added without rewriting the tables.
alter table basket_items add column paired boolean not null default true;
alter table co_purchase_queue add column paired boolean not null default true;
