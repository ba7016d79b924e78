-- Run once by the mysql:8.0 image on first start (docker-compose.yml mounts it
-- into /docker-entrypoint-initdb.d). Integration tests create throw-away
-- databases named sportsfeed_t_<random>, so the app user may own that pattern
-- too, just as infra/local/mariadb.sh grants it on the Docker-free stack.
GRANT ALL PRIVILEGES ON `sportsfeed\_%`.* TO 'sportsfeed'@'%';
FLUSH PRIVILEGES;
