SELECT fields FROM submissions WHERE id = $id
